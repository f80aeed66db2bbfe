"""The course's assignments, as data read from their instructor notebooks.

Each folder of source/ with one notebook is an assignment, named after the folder. What grading
needs of it is declared once, in the notebook's nbgrader metadata: its grade cells (autograded
code cells with points) are named FUNCTION_tests after the graded function they test, and their
points are the cells' `points`; written answers (nbgrader's manually graded answer cells) are
listed apart, since no machine scores them. Its hidden tests, if any, are hidden/ASSIGNMENT/
(course/hidden/judge.py). Grading reads every assignment from here and names none. The tools
that build or use one assignment's own files name it where they use them:
- resnets: the data (course/authoring/data.py: resnets_utils), the pretrained model it trains
  (authoring/pretrained.py), its diagrams (authoring/figures.py), oneDNN's choice
  (course/__init__.py: onednn.py);
- beyond: its augmenter, which the pretrained model's `beyond` recipe uses;
- resnets again: the assignment the audit's attacks on the machine run on (audit/runs.py,
  MACHINE_WIDE).
"""
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import ROOT

SUFFIX = "_tests"  # a grade cell's id: the graded function's name, then this


class AssignmentError(ValueError):
    pass


@dataclass(frozen=True)
class Assignment:
    root: Path
    name: str
    notebook: str  # the notebook's file name
    points: dict = field(default_factory=dict)  # {grade cell id: points}, in notebook order
    manual: dict = field(default_factory=dict)  # {written answer's id: points}: graded by hand

    @property
    def stem(self):
        """The notebook's name without .ipynb: nbgrader's notebook id."""
        return Path(self.notebook).stem

    @property
    def functions(self):
        """The graded functions, in notebook order."""
        return [cell.removesuffix(SUFFIX) for cell in self.points]

    @property
    def total(self):
        return sum(self.points.values())

    def source(self, root=None):
        return Path(root or self.root) / "source" / self.name / self.notebook

    def release(self, root=None):
        return Path(root or self.root) / "release" / self.name / self.notebook

    def hidden(self, root=None):
        return Path(root or self.root) / "hidden" / self.name


def read(folder):
    """The assignment whose instructor notebook is in `folder` (source/NAME/)."""
    folder = Path(folder)
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise AssignmentError(
            f"{folder}: an assignment folder holds one notebook, found {len(notebooks)}. Fix: "
            "keep one instructor notebook per folder of source/.")
    points, manual = {}, {}
    for cell in nbformat.read(notebooks[0], as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):  # an answer the instructor grades by hand
            manual[meta["grade_id"]] = float(meta.get("points", 0))
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            if not meta.get("grade_id", "").endswith(SUFFIX):
                raise AssignmentError(
                    f"{notebooks[0]}: grade cell {meta.get('grade_id')!r} is not named "
                    f"FUNCTION{SUFFIX}. Fix: name each test cell after the function it grades.")
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return Assignment(folder.parent.parent, folder.name, notebooks[0].name, points, manual)


def assignments(root=ROOT):
    """{name: Assignment} of every folder of root/source/, sorted by name."""
    source = Path(root) / "source"
    return {folder.name: read(folder) for folder in sorted(source.iterdir())
            if folder.is_dir() and not folder.name.startswith(".")} if source.is_dir() else {}


def find(name, root=ROOT):
    """The assignment `name`; one error line naming the others if there is none."""
    found = assignments(root)
    if name not in found:
        raise AssignmentError(f"no assignment {name!r} in {Path(root) / 'source'} (there are: "
                              f"{', '.join(found) or 'none'}). Fix: name one of them.")
    return found[name]
