"""The machine a benchmark ran on, for its records: figures differ from one CPU to the next."""
import os
import re
import subprocess
from pathlib import Path


def cpu():
    """{model, flags, cores, mhz} of this machine (lscpu, /proc/cpuinfo)."""
    text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    mhz = fields.get("CPU max MHz")
    if not mhz:
        info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        found = re.search(r"cpu MHz\s*:\s*([\d.]+)", info)
        mhz = found.group(1) if found else None
    return {"model": fields.get("Model name"), "flags": fields.get("Flags", "").split(),
            "cores": os.cpu_count(), "mhz": float(mhz) if mhz else None}


def summary():
    """The CPU in a record's few words: its model, cores and vector extensions, and whether
    TensorFlow's oneDNN kernels were asked for (they are on by themselves with AVX-512)."""
    found = cpu()
    return {"model": found["model"], "cores": found["cores"],
            "avx512": "avx512f" in found["flags"], "avx2": "avx2" in found["flags"],
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}
