"""TensorFlow's fast CPU kernels (oneDNN) on every x86 CPU: import this before TensorFlow.

TensorFlow's x86 packages turn their oneDNN kernels on by themselves only on CPUs with
AVX-512 VNNI, AVX-512 BF16 or AMX (TensorFlow 2.9's release notes; `IsMklEnabled()` is False on
an AVX2 CPU). Elsewhere, on most laptops, they stay off, and the notebook's ResNet50 trains
two to three times slower (measured on 2-core AVX2 CPUs: 9.6 images per second without them
against 18.6 with them, and 7.0 against 23.2 on another). Importing this module sets
TF_ENABLE_ONEDNN_OPTS=1 on such a CPU before TensorFlow reads it, and prints one line saying
what was chosen. A TF_ENABLE_ONEDNN_OPTS that you set yourself always wins: 0 keeps them off.

Imported by a notebook, it then imports TensorFlow without the lines TensorFlow's C++ runtime
writes to stderr while it loads (absl's "All log messages before absl::InitializeLog()", the
oneDNN notice, the CUDA probe of a machine without a GPU: TF_CPP_MIN_LOG_LEVEL does not silence
them in TensorFlow 2.21), which would open every notebook in red; any other line it writes is
shown. (The course's own processes load this file under another name, for the choice alone.)

Nothing here is graded.
"""
import importlib
import os
import platform
import re
import sys
import tempfile

VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
# /proc/cpuinfo's names of the features with which TensorFlow turns oneDNN on by itself
TENSORFLOW_TURNS_IT_ON = ("avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags (Linux), or None where they cannot be read."""
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def choose(environ, machine, flags, tensorflow_loaded):
    """Set TF_ENABLE_ONEDNN_OPTS=1 in `environ` where TensorFlow would leave oneDNN off (an x86
    CPU without the features above), unless it is set already; returns the one-line note.
    `flags` is None where they could not be read (not Linux): oneDNN is then set on."""
    machine = machine.lower()
    if environ.get(VARIABLE) not in (None, ""):
        return f"oneDNN: {VARIABLE}={environ[VARIABLE]} from your environment, left as it is"
    if machine not in ("x86_64", "amd64", "i686", "i386"):
        return f"oneDNN: left to TensorFlow (a {machine} CPU, not x86)"
    if flags and any(flag in flags for flag in TENSORFLOW_TURNS_IT_ON):
        return "oneDNN: on, TensorFlow's own choice on this CPU (it has AVX-512 VNNI, BF16 or AMX)"
    if tensorflow_loaded:
        return (f"oneDNN: off: TensorFlow was imported before onednn.py, too late to set "
                f"{VARIABLE}. Fix: restart the kernel and run the imports cell first")
    environ[VARIABLE] = "1"
    return (f"oneDNN: on ({VARIABLE}=1 set by onednn.py: TensorFlow leaves it off on CPUs "
            "without AVX-512 VNNI, BF16 or AMX, and ResNet50 trains 2 to 3 times faster with it)")


# TensorFlow's information and warning lines while it loads: absl's notice before its log is set
# up, then its prefix (level, MMDD, hh:mm:seconds, thread, file:line)
LOADING_LINES = (
    re.compile(r"WARNING: All log messages before absl::InitializeLog\(\) is called are "
               r"written to STDERR"),
    re.compile(r"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.-]+\.(cc|h):\d+\] .*"))


def import_quietly(name):
    """`import name`, with what is written to the process's stderr meanwhile (file descriptor
    2, where C++ libraries write) held back, then shown but for TensorFlow's loading lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            return importlib.import_module(name)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines():
                if line.strip() and not any(pattern.fullmatch(line) for pattern in LOADING_LINES):
                    print(line, file=sys.stderr)


NOTE = choose(os.environ, platform.machine(), cpu_flags(), "tensorflow" in sys.modules)
if __name__ == "onednn":  # a notebook's `import onednn`, before it imports TensorFlow
    import_quietly("tensorflow")
