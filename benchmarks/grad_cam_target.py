"""Grad-CAM on the class score before the softmax against Grad-CAM on the class probability.

    python benchmarks/grad_cam_target.py [datasets/resnet50.h5]

For each of the 120 SIGNS test photos and three layers of the pretrained network (conv5's,
conv4's and conv3's block outputs, 2×2, 4×4 and 8×8 at 64×64 input), computes the Grad-CAM map
of the predicted class twice, as the Beyond ResNet50 assignment's exercise 7 does, once with
the gradient of the logit z_c (the paper's choice: Selvaraju et al. 2017, section 3) and once
with the gradient of p_c = softmax(z)_c. The chain rule gives dp_c/dz_j = p_c (1[j = c] - p_j):
the probability's gradient is p_c times the gradient of z_c minus the p-weighted mean of every
class's: as p_c nears 1 its size goes to 0 and what is left of it compares class c with the
runners-up. Prints, per layer: how many probability maps are blank (all 0) where the logit map
is not; for the others, the mean and largest absolute difference between the two [0, 1] maps at
the layer's resolution and on how many photos they differ by over 0.5 somewhere; then the photos
the network gets wrong, with their probabilities. Appends one JSON line to
reports/grad_cam_target.jsonl.
"""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "source" / "beyond")]

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from beyond_utils import load_signs_dataset  # noqa: E402

LAYERS = ("conv5_block3_out", "conv4_block6_out", "conv3_block4_out")
OUT = ROOT / "reports" / "grad_cam_target.jsonl"


def maps(model, photos, layer_name):
    """Grad-CAM maps of the predicted class at the layer's resolution, (logit, probability), and
    the class probabilities."""
    head = model.layers[-1]
    inner = keras.Model(model.input, [model.get_layer(layer_name).output, head.input])
    with tf.GradientTape(persistent=True) as tape:
        features, penultimate = inner(photos, training=False)
        logits = tf.matmul(penultimate, head.kernel) + head.bias
        probabilities = tf.nn.softmax(logits)
        predicted = tf.argmax(logits, axis=1)
        # the photos are independent in inference mode: one batch gives each photo's gradient
        logit = tf.reduce_sum(tf.gather(logits, predicted, axis=1, batch_dims=1))
        probability = tf.reduce_sum(tf.gather(probabilities, predicted, axis=1, batch_dims=1))
    results = []
    for score in (logit, probability):
        weights = tf.reduce_mean(tape.gradient(score, features), axis=(1, 2))
        cam = tf.nn.relu(tf.einsum("bhwk,bk->bhw", features, weights)).numpy()
        top = cam.max(axis=(1, 2), keepdims=True)
        results.append(np.divide(cam, top, out=np.zeros_like(cam), where=top > 0))
    return results, probabilities.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=ROOT / "datasets" / "resnet50.h5")
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"{args.model}: no such file; expected the course's pretrained model "
                 "(`make data` links datasets/resnet50.h5)")
    _, _, X_test, labels, _ = load_signs_dataset(ROOT / "datasets")
    model = keras.models.load_model(args.model)
    photos = tf.constant(X_test / 255.0, dtype=tf.float32)
    row = {"model": str(args.model), "photos": len(X_test), "layers": {}}
    print("| layer | map | probability map blank | mean abs. difference | largest | photos "
          "with a difference over 0.5 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in LAYERS:
        (logit, probability), probabilities = maps(model, photos, name)
        blank = (probability.max(axis=(1, 2)) == 0) & (logit.max(axis=(1, 2)) > 0)
        difference = np.abs(logit - probability)[~blank]
        apart = int((difference.max(axis=(1, 2)) > 0.5).sum())
        row["layers"][name] = {
            "map": list(logit.shape[1:]), "probability_blank": int(blank.sum()),
            "photos_apart_by_over_half": apart,
            "mean_abs_difference": float(difference.mean()) if difference.size else None,
            "max_abs_difference": float(difference.max()) if difference.size else None}
        print(f"| `{name}` | {logit.shape[1]}×{logit.shape[2]} | {int(blank.sum())} of "
              f"{len(X_test)} | {difference.mean():.3f} | {difference.max():.3f} | {apart} |")
    confidence = probabilities.max(axis=1)
    row["confidence"] = {"min": float(confidence.min()), "median": float(np.median(confidence)),
                         "equal_to_1_in_float32": int((confidence == 1.0).sum())}
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    row["mistakes"] = [{"photo": int(i), "sign": int(labels[i]),
                        "predicted": int(probabilities[i].argmax()),
                        "probability": float(probabilities[i].max())} for i in wrong]
    for mistake in row["mistakes"]:
        print(f"photo {mistake['photo']}: sign {mistake['sign']}, predicted "
              f"{mistake['predicted']} with probability {mistake['probability']:.2f}")
    row["machine"] = {"cpus": os.cpu_count(), "architecture": platform.machine()}
    row["versions"] = {"python": platform.python_version(), "tensorflow": tf.__version__,
                       "keras": keras.__version__}
    print(f"predicted-class probability: median {row['confidence']['median']:.6f}, lowest "
          f"{row['confidence']['min']:.3f}; exactly 1 in float32 for "
          f"{row['confidence']['equal_to_1_in_float32']} of {len(X_test)} photos")
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
