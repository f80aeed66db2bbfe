"""The students' environment: the packages and versions the notebooks need, found where the
students run them."""
import json
import subprocess
import sys
from pathlib import Path

from course.term.term import TermError

PROBE = ("import importlib.metadata as m, json, sys\n"
         "found = {}\n"
         "for name in sys.argv[1:]:\n"
         "    try:\n"
         "        found[name] = m.version(name)\n"
         "    except m.PackageNotFoundError:\n"
         "        found[name] = None\n"
         "print(json.dumps({'python': sys.version.split()[0], 'packages': found}))\n")


# whether a Jupyter server started by that Python loads formgrader: its own reading of every
# configuration folder, in its order of precedence (jupyter_server's ServerApp does the same)
FORMGRADER = ("from jupyter_core.paths import jupyter_config_path\n"
              "from jupyter_server.extension.config import ExtensionConfigManager\n"
              "print(bool(ExtensionConfigManager(read_config_path=jupyter_config_path())"
              ".enabled('nbgrader.server_extensions.formgrader')))\n")


def required_packages(root):
    """The names of the packages requirements.txt pins (packaging's parser, pip's own)."""
    from packaging.requirements import Requirement

    path = Path(root) / "requirements.txt"
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise TermError(f"{path}: {error.strerror}. Fix: run it in the course folder (--root)."
                        ) from None
    return [Requirement(line.split("#")[0]).name for line in lines if line.split("#")[0].strip()]


def versions(python, names):
    try:
        run = subprocess.run([str(python), "-c", PROBE, *names], capture_output=True, text=True,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TermError(f"{python}: cannot run it ({error}). Fix: give the path of the "
                        "students' Python, e.g. /opt/conda/bin/python in their image.") from None
    try:
        if run.returncode != 0:
            raise ValueError((run.stderr.strip().splitlines() or ["failed"])[-1])
        return json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as error:
        raise TermError(f"{python}: could not list its packages ({error}). Fix: give the path "
                        "of the Python the students' Jupyter runs.") from None


def environment(course, python):
    names = required_packages(course.root)
    theirs, ours = versions(python, names), versions(sys.executable, names)
    differences = []
    if theirs["python"].rsplit(".", 1)[0] != ours["python"].rsplit(".", 1)[0]:
        differences.append(f"Python {theirs['python']} (students) against {ours['python']} "
                           "(grader)")
    for name in names:
        mine, yours = ours["packages"][name], theirs["packages"][name]
        if mine != yours:
            differences.append(f"{name} {yours or 'missing'} (students) against "
                               f"{mine or 'missing'} (grader)")
    try:
        shown = subprocess.run([str(python), "-c", FORMGRADER], capture_output=True, text=True,
                               timeout=120)
    except subprocess.TimeoutExpired:
        shown = subprocess.CompletedProcess([], 1, "", "no answer in 120 s")
    if shown.stdout.strip() not in ("True", "False"):
        differences.append("cannot tell whether their Jupyter shows formgrader: "
                           + (shown.stderr.strip().splitlines() or ["no answer"])[-1])
    elif shown.stdout.strip() == "True":
        differences.append("formgrader is enabled for the students (only the grader needs it). "
                           "Fix: jupyter server extension disable --sys-prefix "
                           "nbgrader.server_extensions.formgrader, in their image")
    if not differences:
        print(f"{python}: the grader's versions of all {len(names)} packages of "
              f"requirements.txt, Python {theirs['python']}; formgrader hidden")
        return 0
    for line in differences:
        print(f"differs: {line}")
    print(f"{len(differences)} differences: a notebook can pass there and fail in grading (or "
          "the reverse). Fix: install requirements.txt's pins in the students' image.")
    return 1
