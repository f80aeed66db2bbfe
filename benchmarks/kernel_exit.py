"""How long nbgrader's graceful shutdown of a grading kernel takes, with and without the exit
handler that the hidden tests' set-up cell registers (course/hidden/untrusted.py `exit_quickly`).

    python benchmarks/kernel_exit.py [--rounds 3]

Each round starts a plain IPython kernel (jupyter_client, as nbclient does), runs one cell that
imports TensorFlow and Keras and predicts with a tiny model (what every grading kernel has done
by its end), then, in one kernel of each pair, `exit_quickly()`; then times
`shutdown_kernel(now=False)`, nbclient's default. The two kinds alternate; prints seconds.
"""
import argparse
import os
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
WORK = ("import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport keras\nimport numpy as np\n"
        "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
        "model.predict(np.zeros((2, 4)), verbose=0)\n")


def shutdown_seconds(quickly):
    manager, client = start_new_kernel(kernel_name="python3")
    code = WORK
    if quickly:
        code += (f"exec(compile(open({str(ROOT / 'course' / 'untrusted.py')!r}).read(), "
                 "'untrusted.py', 'exec'), namespace := {})\nnamespace['exit_quickly']()\n")
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"error: the kernel's cell failed: {reply['content'].get('evalue')}")
    client.stop_channels()
    start = time.perf_counter()
    manager.shutdown_kernel(now=False)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    seconds = {"TensorFlow's teardown": [], "exit_quickly": []}
    for _ in range(args.rounds):
        for quickly, runs in zip((False, True), seconds.values()):
            runs.append(shutdown_seconds(quickly))
    for kind, runs in seconds.items():
        print(f"{kind:22s} " + " ".join(f"{s:.2f}" for s in runs) + " s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
