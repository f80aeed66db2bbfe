"""Train the solution's ResNet50 on SIGNS and save it as resnet50.h5 for the notebook.

    python -m course.authoring.pretrained [--epochs 30] [--seed 0] [--augmentation geometric|beyond]
                                [--warmup-epochs 0] [--limit 0] [--out datasets/resnet50.h5]

Recipe (the defaults of Config): the 1,080 training images split 80/20 into training and
validation (stratified, fixed seed); random flips, shifts, small rotations and zooms
(`--augmentation beyond`: the Beyond ResNet50 assignment's augmenter instead, its solution's
flips, turns up to 25 degrees, zooms, shifts, brightness and contrast); Adam 1e-3 with cosine
decay to 0 (`--warmup-epochs N`: N epochs of linear warm-up first, that assignment's
warmup_cosine); batch 32. From the middle of training, after each epoch the BatchNorm
statistics are re-estimated over the training split (as in the notebook's exercise 5) and the
epoch is scored on the validation split; the best epoch's weights are kept. The test images are
used once, at the end, only to report. Writes the model, then `<out>.json` with the resolved
config, the per-epoch validation accuracy, the test accuracy and the file's SHA-256.
`--limit N` trains on the first N training images only (the same split of those): the code
path on a small budget, for the tests; 0 (the default) takes all 1,080.
"""
import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course import ROOT
from course.core import assignment_module, run_answers, solution_sources

SOURCE = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"  # the notebook it trains
BEYOND = ROOT / "source" / "beyond" / "Beyond_ResNet50.ipynb"  # its augmenter and schedule
AUGMENTATIONS = ("geometric", "beyond")
_utils = assignment_module(SOURCE.parent, "resnets_utils")
load_signs_dataset, one_hot = _utils.load_signs_dataset, _utils.one_hot


@dataclasses.dataclass
class Config:
    epochs: int = 30
    seed: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-3
    validation_fraction: float = 0.2
    select_from_epoch: float = 0.5  # score epochs from this fraction of training on
    augmentation: str = "geometric"  # or "beyond"
    warmup_epochs: int = 0
    limit: int = 0  # the first N training images only (0: all), for a test of the code path
    out: str = str(ROOT / "datasets" / "resnet50.h5")  # the data folder


def split(labels, fraction, seed):
    """Stratified (train indices, validation indices) of the training images."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = int(round(len(members) * fraction))
        validation.extend(members[:cut])
        train.extend(members[cut:])
    return np.sort(train), np.sort(validation)


def augmenter(config, beyond):
    if config.augmentation == "beyond":
        return beyond["augmenter"](seed=config.seed)
    if config.augmentation == "geometric":
        return keras.Sequential([
            keras.layers.RandomFlip("horizontal", seed=config.seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=config.seed),
            keras.layers.RandomRotation(0.05, fill_mode="nearest", seed=config.seed),
            keras.layers.RandomZoom(0.1, fill_mode="nearest", seed=config.seed),
        ])
    raise ValueError(f"augmentation {config.augmentation!r}: expected one of {AUGMENTATIONS}")


def augmented(X, Y, config, augment):
    return (tf.data.Dataset.from_tensor_slices((X, Y))
            .shuffle(len(X), seed=config.seed)
            .batch(config.batch_size)
            .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


class SelectOnValidation(keras.callbacks.Callback):
    """After each scored epoch: re-estimate BN statistics, score on validation, keep the best."""

    def __init__(self, reestimate, X_train, X_val, Y_val, first_epoch):
        super().__init__()
        self.reestimate, self.X_train, self.X_val, self.Y_val = reestimate, X_train, X_val, Y_val
        self.first_epoch, self.best, self.best_weights, self.history = first_epoch, -1.0, None, []

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 < self.first_epoch:
            return
        self.reestimate(self.model, self.X_train)
        accuracy = float(self.model.evaluate(self.X_val, self.Y_val, verbose=0)[1])
        self.history.append({"epoch": epoch + 1, "val_accuracy": accuracy,
                             "train_accuracy_fit": float(logs.get("accuracy", 0))})
        if accuracy >= self.best:
            self.best, self.best_weights = accuracy, self.model.get_weights()
        print(f"epoch {epoch + 1}: validation accuracy {accuracy:.3f} (best {self.best:.3f})",
              flush=True)


def train(config):
    X, Y, X_test, Y_test, _ = load_signs_dataset(ROOT / "datasets")
    if config.limit:
        X, Y = X[:config.limit], Y[:config.limit]
    X = X.astype("float32") / 255
    X_test, Y_test = X_test.astype("float32") / 255, one_hot(Y_test)
    train_index, val_index = split(Y, config.validation_fraction, config.seed)
    X_train, Y_train = X[train_index], one_hot(Y[train_index])
    X_val, Y_val = X[val_index], one_hot(Y[val_index])
    keras.utils.set_random_seed(config.seed)
    solution = run_answers(solution_sources(SOURCE), SOURCE)
    beyond = (run_answers(solution_sources(BEYOND), BEYOND)
              if config.augmentation == "beyond" or config.warmup_epochs else None)
    model = solution["ResNet50"](input_shape=(64, 64, 3), classes=6)
    per_epoch = int(np.ceil(len(X_train) / config.batch_size))
    if config.warmup_epochs:
        schedule = beyond["StepSchedule"](beyond["warmup_cosine"], peak=config.learning_rate,
                                          warmup_steps=config.warmup_epochs * per_epoch,
                                          total_steps=config.epochs * per_epoch)
    else:
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate,
                                                          config.epochs * per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    select = SelectOnValidation(solution["reestimate_bn_statistics"], X_train, X_val, Y_val,
                                first_epoch=max(1, int(config.epochs * config.select_from_epoch)))
    started = time.perf_counter()
    model.fit(augmented(X_train, Y_train, config, augmenter(config, beyond)),
              epochs=config.epochs, verbose=2,
              shuffle=False, callbacks=[select])  # the dataset shuffles itself
    model.set_weights(select.best_weights)
    report = {"config": dataclasses.asdict(config), "train_images": len(X_train),
              "validation_images": len(X_val), "validation": select.history,
              "best_validation_accuracy": select.best,
              "test_accuracy": float(model.evaluate(X_test, Y_test, verbose=0)[1]),
              "train_seconds": round(time.perf_counter() - started, 1),
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    return model, report


def save(model, report, out):
    """Write the model and its report; a half-written file never takes the final name."""
    out = Path(out)
    temporary = out.with_name(out.stem + ".partial.h5")
    model.save(temporary, include_optimizer=False)  # weights only: 95 MB instead of 283 MB
    keras.models.load_model(temporary)  # what students will do: fails here, not in class
    report["sha256"] = hashlib.sha256(temporary.read_bytes()).hexdigest()
    record = out.with_name(out.stem + ".partial.json")
    record.write_text(json.dumps(report, indent=2))
    # replace() puts a new file in place of a link to shared course data (make data), never
    # writes through it
    temporary.replace(out)
    record.replace(out.with_suffix(".json"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in dataclasses.fields(Config):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=field.type,
                            default=field.default, choices=AUGMENTATIONS
                            if field.name == "augmentation" else None)
    config = Config(**vars(parser.parse_args(argv)))
    model, report = train(config)
    save(model, report, config.out)
    print(f"wrote {config.out}: validation accuracy {report['best_validation_accuracy']:.3f}, "
          f"test accuracy {report['test_accuracy']:.3f}, sha256 {report['sha256'][:16]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
