"""Hostile submissions: what a student could hand in to get points without earning them, or to
break the grading. Each is generated from the release notebook (course.submissions.with_answers)
and says which cells must score 0 and what the grading report must say about it.

Used by `python -m course.audit` (make grade-audit), which grades them through nbgrader with the
catalog's mistakes and variants; docs/grading.md says what each one shows.
"""
import json

import nbformat

from course.notebook import solution_sources
from course.submissions import MISTAKES, NOTEBOOK, apply, with_answers

MISTAKE = {mistake.cell: mistake for mistake in MISTAKES}


class Attack:
    """A hostile submission: `build(answers)` -> (file name, bytes); `zero` are the graded
    functions that must get 0 points (all others full marks) or None when the submission must
    not be graded at all; `report` must appear in the grading report."""

    def __init__(self, student, why, build, zero, report):
        self.student, self.why, self.build, self.zero, self.report = student, why, build, zero, report


def _notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def _wrong(answers, cell):
    """`answers` with the bundled mistake of `cell` made."""
    return apply(MISTAKE[cell], answers)


def _with_added_cell(notebook, after, source):
    """`notebook` with a code cell of the student's own (no nbgrader metadata) after `after`."""
    index = next(i for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == after)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def infinite_loop(answers):
    looping = answers["unfreeze_last_stage"] + (
        "\n\ndef unfreeze_last_stage(model, prefix=\"conv5_\", learning_rate=3e-4):\n"
        "    while True:  # never returns\n        pass\n")
    return NOTEBOOK, _notebook_bytes(with_answers({**answers, "unfreeze_last_stage": looping}))


def raising_cell(answers):
    raising = 'raise RuntimeError("this cell raises before defining its function")\n\n'
    return NOTEBOOK, _notebook_bytes(with_answers(
        {**answers, "reestimate_bn_statistics": raising + answers["reestimate_bn_statistics"]}))


def deleted_test_cell(answers):
    notebook = with_answers(_wrong(answers, "identity_block"))
    notebook.cells = [cell for cell in notebook.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") != "identity_block_tests"]
    return NOTEBOOK, _notebook_bytes(notebook)


def edited_test_cell(answers):
    notebook = with_answers(_wrong(answers, "convolutional_block"))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "convolutional_block_tests":
            cell.source = 'print("\\033[92mAll tests passed!\\033[0m")'
    return NOTEBOOK, _notebook_bytes(notebook)


def shadowed_test(answers):
    notebook = with_answers(_wrong(answers, "ResNet50"))
    return NOTEBOOK, _notebook_bytes(_with_added_cell(notebook, "ResNet50", (
        "def ResNet50_test(ResNet50):  # replaces the imported public test\n"
        '    print("\\033[92mAll tests passed!\\033[0m")\n')))


def monkeypatched_numpy(answers):
    notebook = with_answers(_wrong(answers, "reestimate_bn_statistics"))
    return NOTEBOOK, _notebook_bytes(_with_added_cell(notebook, "reestimate_bn_statistics", (
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


def reads_references(answers):
    notebook = with_answers(_wrong(answers, "identity_block"))
    return NOTEBOOK, _notebook_bytes(_with_added_cell(notebook, "identity_block", READ_REFERENCES))


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


def overwrites_files(answers):
    notebook = with_answers(_wrong(answers, "transfer_model"))
    return NOTEBOOK, _notebook_bytes(_with_added_cell(notebook, "transfer_model", OVERWRITE_FILES))


def killed_kernel(answers):
    notebook = with_answers(answers)
    return NOTEBOOK, _notebook_bytes(_with_added_cell(notebook, "bn_behaviour", (
        "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)  # the kernel dies\n")))


def huge_allocation(answers):
    grab = ("def grab_memory():\n    blocks = []\n    while True:  # 100 MB at a time, until refused\n"
            "        blocks.append(bytearray(10**8))\n\n\ngrab_memory()\n\n")
    return NOTEBOOK, _notebook_bytes(with_answers(
        {**answers, "transfer_model": grab + answers["transfer_model"]}))


def fake_pass_message(answers):
    wrong = _wrong(answers, "bn_behaviour")
    wrong["bn_behaviour"] += '\n\nprint("\\033[92mAll tests passed!\\033[0m")\n'
    return NOTEBOOK, _notebook_bytes(with_answers(wrong))


def corrupt_json(answers):
    text = nbformat.writes(with_answers(answers))
    return NOTEBOOK, text[:len(text) // 2].encode()


def renamed_notebook(answers):
    return NOTEBOOK.replace(".ipynb", "-Copy1.ipynb"), _notebook_bytes(with_answers(answers))


def not_a_notebook(answers):
    return NOTEBOOK, json.dumps({"cells": "not a list"}).encode()


ATTACKS = [
    Attack("adversarial-infinite-loop", "unfreeze_last_stage never returns", infinite_loop,
           ["unfreeze_last_stage"], "unfreeze_last_stage_tests: CellTimeoutError"),
    Attack("adversarial-raising-cell", "an answer cell raises before defining its function",
           raising_cell, ["reestimate_bn_statistics"],
           "reestimate_bn_statistics: RuntimeError: this cell raises"),
    Attack("adversarial-deleted-test-cell", "a wrong identity_block, its test cell deleted",
           deleted_test_cell, ["identity_block"],
           "adversarial-deleted-test-cell: identity_block_tests: the test cell was deleted from "
           "the submission; nbgrader put it back and ran it"),
    Attack("adversarial-edited-test-cell",
           "a wrong convolutional_block, its test cell replaced by a print",
           edited_test_cell, ["convolutional_block"], "convolutional_block_tests: AssertionError"),
    Attack("adversarial-shadowed-public-test",
           "a wrong ResNet50, and an added cell that redefines ResNet50_test to print a pass",
           shadowed_test, ["ResNet50"], "ResNet50: hidden tests failed"),
    Attack("adversarial-monkeypatched-numpy",
           "a wrong reestimate_bn_statistics, and np.allclose, np.testing.assert_allclose and "
           "tf.debugging.assert_near replaced to always pass",
           monkeypatched_numpy, ["reestimate_bn_statistics"],
           "reestimate_bn_statistics: hidden tests failed"),
    Attack("adversarial-reads-references",
           "a wrong identity_block, and an added cell that reads references.npz and makes the "
           "hidden test return it", reads_references, ["identity_block"],
           "identity_block: hidden tests failed"),
    Attack("adversarial-overwrites-files",
           "a wrong transfer_model, and an added cell that overwrites the references, the "
           "gradebook, the tests and the nbgrader config, and deletes the gradebook",
           overwrites_files, ["transfer_model"], "course files: unchanged"),
    Attack("adversarial-huge-allocation", "an answer cell allocates memory until refused",
           huge_allocation, ["transfer_model"], "transfer_model: MemoryError"),
    Attack("adversarial-fake-pass-message",
           "a wrong bn_behaviour whose cell prints the tests' 'All tests passed!'",
           fake_pass_message, ["bn_behaviour"], "bn_behaviour_tests: AssertionError"),
    Attack("adversarial-kills-kernel", "an added cell kills its own kernel", killed_kernel, None,
           "adversarial-kills-kernel: NOT GRADED: nbgrader autograde failed (exit 1): "
           "DeadKernelError: Kernel died"),
    Attack("adversarial-corrupt-json", "the notebook file cut in half", corrupt_json, None,
           "adversarial-corrupt-json: NOT GRADED: submitted/adversarial-corrupt-json/resnets/"
           "Residual_Networks.ipynb is not a valid notebook"),
    Attack("adversarial-not-a-notebook", "valid JSON that is not a notebook", not_a_notebook,
           None, "adversarial-not-a-notebook: NOT GRADED"),
    Attack("adversarial-renamed-notebook", "the notebook saved as Residual_Networks-Copy1.ipynb",
           renamed_notebook, None,
           "adversarial-renamed-notebook: NOT GRADED: no Residual_Networks.ipynb in "
           "submitted/adversarial-renamed-notebook/resnets/ (found: Residual_Networks-Copy1.ipynb)"),
]


def build_all():
    """{student: (file name, bytes)} for every attack."""
    answers = solution_sources()
    return {attack.student: attack.build(answers) for attack in ATTACKS}
