"""A class of synthetic submissions made from an assignment's catalog, for the reports' tests and
benchmarks (course/grading/misconceptions.py, course/term/similarity.py).

- honest students: each graded function answered as the solution, a correct variant or a
  cataloged mistake, drawn at random, with what their own training printed (a run of their
  own: numbers no one else prints);
- copiers: a classmate's notebook with the local names changed, neighbouring statements that do
  not depend on each other swapped and comments added (`disguise`), its outputs run again or left
  as they were.
"""
import ast
import random

import nbformat

from course.audit import catalog
from course.audit.submissions import with_answers
from course.core import solution_sources

SOLUTION_SHARE = 0.4  # of an honest class's answers, those written as the solution
SKIP = "skip-when-grading"  # the tag of the cells that train (nbgrader_config.py)


class _Rename(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node


def _names(node, stored=True):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and (not stored or isinstance(n.ctx, ast.Store))}


def _builds_layers(call):
    """A call that makes a class's object (`Conv2D(...)`, `layers.Add(...)`) or applies one
    (`Conv2D(...)(X)`): no state of anyone else's changes."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else None
    return isinstance(func, ast.Call) or (name or "a")[0].isupper()


def _movable(statement):
    """An assignment whose calls only make or apply layers: moving it changes nothing another
    statement reads (a function or method call, `stats_changed()` or `w.assign(s)`, may)."""
    return isinstance(statement, ast.Assign) and all(
        _builds_layers(node) for node in ast.walk(statement) if isinstance(node, ast.Call))


def _swap_independent(body, rng):
    """Swap neighbouring assignments that only build layers, where neither uses what the other
    assigns (each such pair with even odds)."""
    i = 1 if body and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) else 0  # the docstring stays first
    while i + 1 < len(body):
        first, second = body[i], body[i + 1]
        simple = _movable(first) and _movable(second)
        if (simple and not _names(first) & _names(second, stored=False)
                and not _names(second) & _names(first, stored=False) and rng.random() < 0.5):
            body[i], body[i + 1] = second, first
            i += 2
        else:
            i += 1


def disguise(source, rng):
    """`source` as a copier hands it in: every function's local names changed, independent
    neighbouring statements swapped (at random, `rng`), a comment every third line."""
    tree = ast.parse(source)
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        arguments = {a.arg for a in function.args.args + function.args.kwonlyargs}
        _Rename({name: f"my_{name.lower()}" for name in _names(function) - arguments}).visit(
            function)
        _swap_independent(function.body, rng)
    lines = []
    for number, line in enumerate(ast.unparse(tree).splitlines()):
        lines.append(line)
        if number % 3 == 2 and line.strip() and not line.rstrip().endswith((":", ",", "(", "[")):
            indent = line[:len(line) - len(line.lstrip())]
            lines.append(f"{indent}# step {number}, as in the lecture")
    return "\n".join(lines) + "\n"


def printed_run(rng, epochs=3):
    """What a training run of one's own prints: Keras's progress lines, numbers of its own."""
    lines, loss = [], rng.uniform(1.6, 2.2)
    for epoch in range(1, epochs + 1):
        loss *= rng.uniform(0.6, 0.9)
        lines.append(f"Epoch {epoch}/{epochs}\n18/18 - 9s - 500ms/step - accuracy: "
                     f"{rng.uniform(0.2, 0.9):.4f} - loss: {loss:.4f} - val_accuracy: "
                     f"{rng.uniform(0.2, 0.9):.4f} - val_loss: {loss * rng.uniform(1, 1.3):.4f}")
    return "\n".join(lines) + "\n"


def with_run(notebook, rng):
    """`notebook` with a run of its own printed under each cell that trains (tagged SKIP)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and SKIP in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=printed_run(rng))]
    return notebook


def choices(assignment, rng):
    """An honest student's answers: per graded function the solution (SOLUTION_SHARE), else a
    correct variant or a cataloged mistake, at random; and the entries chosen."""
    found = catalog.of(assignment)
    answers, chosen = solution_sources(assignment.source()), []
    for function in assignment.functions:
        options = [e for e in found.variants + found.all_mistakes if e.cell == function]
        if options and rng.random() >= SOLUTION_SHARE:
            entry = rng.choice(options)
            answers, chosen = catalog.apply(entry, answers), chosen + [entry]
    return answers, chosen


def honest_class(assignment, size, seed=0):
    """{student: (notebook, [catalog entries it holds])} of `size` honest students."""
    rng = random.Random(seed)
    students = {}
    for index in range(1, size + 1):
        answers, chosen = choices(assignment, rng)
        students[f"student-{index:03d}"] = (with_run(with_answers(assignment, answers), rng),
                                            chosen)
    return students


def copied(assignment, notebook, rng, rerun):
    """A copy of `notebook` with every answer cell disguised (`rng`); its outputs run again
    (`rerun`) or left as they were."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in assignment.functions:
            cell.source = disguise(cell.source, rng)
    return with_run(copy, rng) if rerun else copy
