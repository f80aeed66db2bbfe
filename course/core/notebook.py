"""An instructor notebook as code: its answer cells, and a namespace that has run them.

Every function takes the notebook's path (`Assignment.source()`): nothing here names an
assignment.
"""
import ast
import contextlib
import importlib.util
import io
import sys
from pathlib import Path

import nbformat

IMPORTS = "imports"  # grade_id of each notebook's read-only cell that imports what answers use


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_sources(source):
    """Answer code cell sources of the instructor notebook `source`, solution markers removed, by
    grade_id (written answers, markdown cells graded by hand, are not code)."""
    return _answers(source, "code")


def written_answers(source):
    """The model answers of the instructor notebook's written answers (markdown cells graded by
    hand), solution markers removed, by grade_id."""
    return {name: text.strip() for name, text in _answers(source, "markdown").items()}


def _answers(source, cell_type):
    """{grade_id: source without the solution marker lines} of the answer cells of `cell_type`."""
    return {grade_id(cell): "\n".join(line for line in cell.source.split("\n")
                                      if "### BEGIN SOLUTION" not in line
                                      and "### END SOLUTION" not in line)
            for cell in nbformat.read(source, as_version=4).cells
            if cell.cell_type == cell_type and cell.metadata.get("nbgrader", {}).get("solution")}


def assignment_module(folder, name):
    """The module `name` of the assignment folder `folder` (its utilities, which import only
    installed packages), as the notebook's `import NAME` gets it, loaded from its file: the
    one already imported from there if any."""
    path = (Path(folder) / f"{name}.py").resolve()
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == path:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def use_folder(folder):
    """Make `import NAME` find the modules of the assignment folder `folder` (its public tests,
    its utilities) in this process, forgetting those imported from a sibling assignment's
    folder, which may have the same names."""
    folder = Path(folder).resolve()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().parent.parent == folder.parent \
                and Path(path).resolve().parent != folder:
            del sys.modules[name]
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))


def run_answers(answers, source):
    """A namespace that ran the notebook's imports cell, then `answers` (grade_id -> source),
    with the notebook's folder first on sys.path (its imports cell imports the assignment's
    modules); the printed lines are swallowed."""
    imports = next((cell for cell in nbformat.read(source, as_version=4).cells
                    if grade_id(cell) == IMPORTS), None)
    if imports is None:
        raise ValueError(f"{source}: no cell with grade_id {IMPORTS!r}. Fix: give the notebook's "
                         "imports cell that id (read-only), as every assignment does.")
    use_folder(Path(source).parent)
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(imports.source, namespace)
        for text in answers.values():
            exec(text, namespace)
    return namespace


def cell_functions(cell_id, namespace, source):
    """Define in `namespace` the functions of a given cell of `source` (only its `def`s, none of
    its other statements): lets a benchmark reuse the notebook's recipe without running the
    cell."""
    cell = next(cell for cell in nbformat.read(source, as_version=4).cells
                if grade_id(cell) == cell_id)
    tree = ast.parse(cell.source)
    tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    exec(compile(tree, f"<cell {cell_id}>", "exec"), namespace)
    return namespace
