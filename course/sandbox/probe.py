"""`python -m course.sandbox check`: a real grading kernel started in a boundary, and every
limit of grading, a line each."""
import json
import shutil
import sys
import tempfile
from pathlib import Path

from course import ROOT
from course.core import OUTPUT_LIMITS, SETTINGS, Delivery, nbgrader_config
from course.sandbox.boundary import describe, unavailable
from course.sandbox.kernel import SandboxKernelManager

# What a grading kernel needs: the packages the notebooks import, and the data folder's entries
# (resnets_utils.DATA_FILES and the pretrained model), each opened as the notebooks open it.
OPTIONAL_DATA = ("resnet50.h5",)  # sections 8 and 9 only, which grading skips


CHECK_PACKAGES = ("numpy", "tensorflow", "keras", "h5py", "matplotlib", "PIL", "ipykernel")


CHECK_CODE = r"""
import importlib, json, os, sys
found = {"python": sys.executable, "uid": os.getuid(), "packages": {}, "data": {}}
for name in PACKAGES:
    try:
        found["packages"][name] = getattr(importlib.import_module(name), "__version__", "?")
    except BaseException as error:
        found["packages"][name] = "error: " + f"{type(error).__name__}: {error}".splitlines()[0]
folder = os.environ.get("SIGNS_DATA_DIR") or DATASETS
found["folder"] = folder
for name in ("train_signs.h5", "test_signs.h5", "example_hand.jpg", "sign-language-digits-6to9",
             "resnet50.h5"):
    path = os.path.join(folder, name)
    try:
        if name.endswith(".h5"):
            import h5py
            with h5py.File(path, "r") as handle:
                found["data"][name] = f"{len(handle)} entries"
        elif name.endswith(".jpg"):
            from PIL import Image
            found["data"][name] = "x".join(map(str, Image.open(path).size))
        else:
            found["data"][name] = f"{sum(len(files) for _, _, files in os.walk(path))} files"
            if found["data"][name] == "0 files":
                raise FileNotFoundError(f"{path} is empty or missing")
    except FileNotFoundError:
        found["data"][name] = "error: not found"
    except BaseException as error:
        found["data"][name] = "error: " + f"{type(error).__name__}: {error}".splitlines()[0][:120]
print(json.dumps(found))
"""


class KernelCheckError(RuntimeError):
    """A grading kernel did not run the check; the message ends with the kernel's last line."""


async def _run_in_kernel(course, code, timeout):
    """The stdout of `code` run in a grading kernel (SandboxKernelManager) for `course`."""
    folder = Path(tempfile.mkdtemp(prefix="course-sandbox-check-"))
    manager = SandboxKernelManager(course=str(course))
    output = []

    def collect(message):
        if message["msg_type"] == "stream":
            output.append(message["content"]["text"])

    with tempfile.TemporaryFile("w+") as log:  # what the kernel and its launcher print
        try:
            await manager.start_kernel(cwd=str(folder), stdout=log, stderr=log)
            client = manager.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=timeout)
                reply = await client.execute_interactive(code, timeout=timeout,
                                                         output_hook=collect)
            finally:
                client.stop_channels()
                await manager.shutdown_kernel(now=True)
            if reply["content"]["status"] != "ok":
                raise KernelCheckError(f"the check failed in the kernel: "
                                       f"{reply['content'].get('evalue')}")
        except Exception as error:
            log.seek(0)
            said = [line for line in log.read().splitlines() if line.strip()]
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            raise KernelCheckError(reason + (f"; the kernel said: {said[-1][:200]}"
                                             if said else "")) from error
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return "".join(output)


def limits(course=ROOT):
    """Lines on every limit of grading: the Settings, nbgrader's as the course's
    nbgrader_config.py sets them (or nbgrader's defaults), and the task queue's
    (Delivery)."""
    from nbgrader.preprocessors import Execute, LimitOutput

    config = nbgrader_config(course)

    def configured(classes, name):
        """The value nbgrader_config.py sets for the first of `classes`, else the default of the
        last (a class of nbgrader's, or the course's OUTPUT_LIMITS)."""
        found = [config[c][name] for c in classes if c in config and name in config[c]]
        if found:
            return found[0]
        if classes[-1] == "ExecuteWithHiddenTests":
            return OUTPUT_LIMITS[name][0]
        default = {"Execute": Execute, "LimitOutput": LimitOutput}[classes[-1]]
        return default.class_traits()[name].default_value

    execute, limit = ("ExecuteWithHiddenTests", "Execute"), ("LimitOutput",)
    ours = ("ExecuteWithHiddenTests",)
    return [*SETTINGS.described(),
            f"cell timeout = {configured(execute, 'timeout')!r} (nbgrader_config.py's "
            "Execute.timeout): wall time of one cell of a submission (None: no limit)",
            f"output wait = {configured(execute, 'iopub_timeout')!r} (Execute.iopub_timeout): "
            "seconds nbclient waits for a cell's outputs once the kernel has answered",
            f"output lines = {configured(limit, 'max_lines')!r} (LimitOutput.max_lines): lines "
            "of a cell's output kept; the rest is cut",
            f"traceback lines = {configured(limit, 'max_traceback')!r} (LimitOutput."
            "max_traceback): lines of a cell's error traceback kept",
            *(f"{name.replace('_', ' ')} = {configured(ours, name)!r} (ExecuteWithHiddenTests."
              f"{name}): {help}" for name, (_, help) in OUTPUT_LIMITS.items()),
            *Delivery.from_environment().described()]


def check(course=ROOT, timeout=120):
    """[(ok, line)]: the machine can run boundaries; a grading kernel starts in one with the
    grader's interpreter; every package the notebooks need imports in it; the data folder is
    readable from it. Stops at the first step that fails."""
    import asyncio

    problem = unavailable()
    if problem:
        return [(False, f"sandbox: {problem}")]
    lines = [(True, f"sandbox: ok: {describe()}"),
             *((True, f"limit: {line}") for line in limits(course))]
    code = (f"PACKAGES = {CHECK_PACKAGES!r}\n"
            f"DATASETS = {str(Path(course) / 'datasets')!r}\n{CHECK_CODE}")
    try:
        printed = asyncio.run(_run_in_kernel(course, code, timeout))
        found = json.loads(printed.strip().splitlines()[-1])
    except (KernelCheckError, ValueError, IndexError) as error:  # no kernel, or no answer
        reason = str(error) or type(error).__name__
        return lines + [(False, f"kernel: a grading kernel with {sys.executable} did not run "
                         f"({reason[:300]}). Fix: what the kernel said; the grader's Python "
                         "environment must be readable in the sandbox and its limits enough for "
                         "TensorFlow (docs/grading.md, 'The sandbox')")]
    lines.append((True, f"kernel: ok: {found['python']} as user id {found['uid']}, in a sandbox"))
    broken = {n: v for n, v in found["packages"].items() if str(v).startswith("error")}
    lines.append((not broken, "packages: " + (
        "ok: " + ", ".join(f"{n} {v}" for n, v in found["packages"].items()) if not broken else
        "; ".join(f"{n} {v}" for n, v in broken.items())
        + ". Fix: `make install` (requirements.txt) in the grader's environment")))
    missing = {n: v for n, v in found["data"].items() if str(v).startswith("error")
               and n not in OPTIONAL_DATA}
    for name in OPTIONAL_DATA:
        if str(found["data"].get(name, "")).startswith("error"):
            found["data"][name] = "not there: optional, grading skips the cells that load it"
    lines.append((not missing, f"data: {found['folder']}: " + (
        "ok: " + ", ".join(f"{n} ({v})" for n, v in found["data"].items()) if not missing else
        "; ".join(f"{n} {v}" for n, v in missing.items())
        + ". Fix: `make data` (and `make model`), or set SIGNS_DATA_DIR to the data folder")))
    return lines
