"""The machine a benchmark ran on, for its records: figures differ from one CPU to the next."""
import os
import re
import subprocess
from pathlib import Path


def cpu():
    """{model, flags, cores, mhz} of this machine (lscpu, /proc/cpuinfo)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except FileNotFoundError:  # no util-linux (macOS, a minimal container): /proc alone
        text = ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    mhz = fields.get("CPU max MHz")
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if not mhz:
        found = re.search(r"cpu MHz\s*:\s*([\d.]+)", info)
        mhz = found.group(1) if found else None
    if "Model name" not in fields:
        found = re.search(r"model name\s*:\s*(.+)", info)
        fields["Model name"] = found.group(1).strip() if found else None
    if "Flags" not in fields:
        found = re.search(r"flags\s*:\s*(.+)", info)
        fields["Flags"] = found.group(1) if found else ""
    return {"model": fields.get("Model name"), "flags": fields.get("Flags", "").split(),
            "cores": os.cpu_count(), "mhz": float(mhz) if mhz else None}


def summary():
    """The CPU in a record's few words: its model, cores and vector extensions; whether
    TensorFlow 2.21 turns its oneDNN kernels on by itself there (it does where the CPU has
    AVX-512 VNNI or bf16 or AMX); and TF_ENABLE_ONEDNN_OPTS as this process has it (a notebook's
    kernel decides its own: the notebooks' onednn.py turns the kernels on where TensorFlow
    leaves them off)."""
    found = cpu()
    flags = set(found["flags"])
    return {"model": found["model"], "cores": found["cores"],
            "avx512": "avx512f" in flags, "avx2": "avx2" in flags,
            "onednn_by_default": bool(flags & {"avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16",
                                                "amx_int8"}),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}
