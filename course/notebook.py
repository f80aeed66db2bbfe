"""The instructor notebook as code: its answer cells, and a namespace that has run them."""
import ast
import contextlib
import io
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "resnets"
NOTEBOOK = "Residual_Networks.ipynb"
SOURCE = ROOT / "source" / ASSIGNMENT / NOTEBOOK


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_sources(source=SOURCE):
    """Answer cell sources of the instructor notebook `source`, solution markers removed, by
    grade_id."""
    answers = {}
    for cell in nbformat.read(source, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            answers[grade_id(cell)] = "\n".join(
                line for line in cell.source.split("\n") if "### BEGIN SOLUTION" not in line
                and "### END SOLUTION" not in line)
    return answers


def run_answers(answers, source=SOURCE):
    """A namespace that ran the notebook's imports cell, then `answers` (grade_id -> source).

    Needs the notebook's folder on sys.path (the imports cell imports the assignment's modules);
    the imports cell's printed lines are swallowed.
    """
    imports = next(cell for cell in nbformat.read(source, as_version=4).cells
                   if grade_id(cell) == "imports")
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(imports.source, namespace)
        for source in answers.values():
            exec(source, namespace)
    return namespace


def cell_functions(cell_id, namespace):
    """Define in `namespace` the functions of a given cell (only its `def`s, none of its other
    statements): lets a benchmark reuse the notebook's recipe without running the cell."""
    cell = next(cell for cell in nbformat.read(SOURCE, as_version=4).cells
                if grade_id(cell) == cell_id)
    tree = ast.parse(cell.source)
    tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    exec(compile(tree, f"<cell {cell_id}>", "exec"), namespace)
    return namespace
