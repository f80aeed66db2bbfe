"""The sample submissions, made from the release notebook; `make demo` (course/demo.py) grades
them in a demo copy of the course, the audit in its own: never in the real class's submitted/.

Each submission is the release notebook with its answer cells filled in, as a student would hand
it in: the instructor solution, the untouched release, and wrong answers made by applying one
realistic mistake (a text edit) to one answer cell of the solution.
"""
import nbformat

from course.assignments import find
from course.notebook import ASSIGNMENT, NOTEBOOK, ROOT, solution_sources

RELEASE = ROOT / "release" / ASSIGNMENT / NOTEBOOK
POINTS = find(ASSIGNMENT, ROOT).points  # {test cell: points}, from the notebook's metadata
CELLS = find(ASSIGNMENT, ROOT).functions  # the graded functions, notebook order


class Mistake:
    """One realistic mistake: text edits (old, new) in answer cell `cell`; each old occurs once."""

    def __init__(self, student, cell, edits, loses, why):
        self.student, self.cell, self.edits, self.loses, self.why = student, cell, edits, loses, why


BN3 = '    X = BatchNormalization(axis=3, name=layer_name(name, "3_bn"))(X, training=training)\n'
MISTAKES = [
    Mistake("wrong-identity-relu-before-add", "identity_block",
            [(BN3, BN3 + '    X = Activation("relu")(X)\n')],
            "identity_block_tests", "a ReLU at the end of the main path, before the addition"),
    Mistake("wrong-conv-stride-on-second", "convolutional_block",
            [('Conv2D(F1, kernel_size=1, strides=s,', 'Conv2D(F1, kernel_size=1, strides=1,'),
             ('Conv2D(F2, kernel_size=f, strides=1,', 'Conv2D(F2, kernel_size=f, strides=s,')],
            "convolutional_block_tests",
            "the stride on the second (f×f) convolution instead of the first"),
    Mistake("wrong-conv-shortcut-no-bn", "convolutional_block",
            [('    X_shortcut = BatchNormalization(axis=3, name=layer_name(name, "0_bn"))(\n'
              '        X_shortcut, training=training)\n', "")],
            "convolutional_block_tests", "no BatchNormalization on the shortcut"),
    Mistake("wrong-resnet-no-softmax", "ResNet50",
            [('X = Dense(classes, activation="softmax",', "X = Dense(classes,")],
            "ResNet50_tests", "the classifier outputs logits: softmax missing"),
    Mistake("wrong-bn-no-restore", "bn_behaviour",
            [("    training_call_changes_stats = stats_changed()\n"
              "    for w, s in zip(model.non_trainable_weights, saved):\n        w.assign(s)\n",
              "    training_call_changes_stats = stats_changed()\n")],
            "bn_behaviour_tests", "the moving statistics not restored after the training call"),
    Mistake("wrong-reestimate-momentum", "reestimate_bn_statistics",
            [("layer.momentum = (k - 1) / k", "layer.momentum = 1 / k")],
            "reestimate_bn_statistics_tests", "momentum 1/k: the first batch's statistics dominate"),
    Mistake("wrong-transfer-not-frozen", "transfer_model",
            [("    backbone.trainable = False\n", "")],
            "transfer_model_tests", "the backbone left trainable: fit would retrain all of it"),
    Mistake("wrong-unfreeze-bn-trainable", "unfreeze_last_stage",
            [("layer.trainable = (layer.name.startswith(prefix)\n"
              "                           and not isinstance(layer, BatchNormalization))",
              "layer.trainable = layer.name.startswith(prefix)")],
            "unfreeze_last_stage_tests", "conv5_'s BatchNorm layers unfrozen with it"),
]


def with_answers(answers):
    """The release notebook with the given answer cells' sources replaced."""
    notebook = nbformat.read(RELEASE, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def apply(mistake, answers):
    """`answers` with `mistake` made in its cell."""
    source = answers[mistake.cell]
    for old, new in mistake.edits:
        if source.count(old) != 1:
            raise ValueError(f"mistake {mistake.student}: {old.strip()!r} occurs "
                             f"{source.count(old)} times in cell {mistake.cell}, expected once. "
                             "Fix: update course/submissions.py after editing the solution.")
        source = source.replace(old, new)
    return {**answers, mistake.cell: source}


def submissions():
    """{student id: notebook} for every bundled submission."""
    answers = solution_sources()
    result = {"instructor-solution": with_answers(answers),
              "untouched-release": nbformat.read(RELEASE, as_version=4)}
    for mistake in MISTAKES:
        result[mistake.student] = with_answers(apply(mistake, answers))
    return result


def expected_scores():
    """{student id: {grade cell: points}} that autograding must give each bundled submission."""
    scores = {"instructor-solution": dict(POINTS),
              "untouched-release": {cell: 0 for cell in POINTS}}
    for mistake in MISTAKES:
        scores[mistake.student] = {cell: 0 if cell == mistake.loses else points
                                   for cell, points in POINTS.items()}
    return scores
