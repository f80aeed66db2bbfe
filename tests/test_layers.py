"""The layering of course/ (docs/grading.md, "The code's map"), read from every module's
imports: no circle, no import that runs up, none inside a function, and another package reached
only through its face (its __init__.py)."""
import ast

import pytest

from conftest import ROOT

# What each package may import, besides itself: the arrows of docs/grading.md's map. The
# commands on top (course/grade.py, demo.py, hub.py) may import any package's face.
MAY_IMPORT = {
    "core": set(),
    "sandbox": {"core"},
    "hidden": {"core"},
    "plugins": {"core", "sandbox", "hidden"},
    "authoring": {"core", "hidden"},
    "grading": {"core", "sandbox", "hidden", "plugins"},
    "queue": {"core", "sandbox", "plugins", "grading"},
    "term": {"core", "plugins", "grading", "queue", "audit"},
    "audit": {"core", "hidden", "plugins", "grading"},
}


def module_name(path, root):
    """course/grading/local.py -> course.grading.local; a package's __init__.py -> its name."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def exported(source):
    """The names a face lists in its __all__."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__"
                                                for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def imports(source, name, modules, exports):
    """[(imported module, line, inside a function)] of the course modules `source` (the module
    `name`) imports: `from P import x` imports the module P.x where there is one, unless P is
    another package whose face lists x in its __all__ (a name it gives, or a module it shows):
    then the face P."""
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from its package
                    package = name if name in packages_of(modules) else name.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}".strip(".")
                inside = name == base or name.startswith(base + ".")  # its own package's
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules and (
                    inside or alias.name not in exports.get(base, ())) else base
                    for alias in child.names]
            found.extend((target, child.lineno, in_function) for target in targets
                         if target == "course" or target.startswith("course."))
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def packages_of(modules):
    return {m for m in modules if any(other.startswith(m + ".") for other in modules)}


def package(module):
    """The package of course.P[.x] (P), or None for the top: course and its commands."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


def problems(sources):
    """Every breach of the layering in `sources` ({module name: its text}), a line each."""
    modules = set(sources)
    exports = {name: exported(source) for name, source in sources.items()
               if name in packages_of(modules)}
    graph, found = {}, []
    for name, source in sorted(sources.items()):
        mine = package(name)
        graph[name] = set()
        for target, line, in_function in imports(source, name, modules, exports):
            where = f"{name}:{line} imports {target}"
            if in_function:
                found.append(f"{where} inside a function")
                continue
            graph[name].add(target)
            theirs = package(target)
            if target == "course" or theirs is None and mine is None:
                continue
            if theirs is None:
                found.append(f"{where}: a package imports a command")
            elif mine is not None and theirs != mine and theirs not in MAY_IMPORT[mine]:
                found.append(f"{where}: {mine} may not import {theirs}")
            elif theirs != mine and target != f"course.{theirs}":
                found.append(f"{where}: another package is reached through its face, "
                             f"course.{theirs}")
            elif theirs == mine and target == f"course.{mine}" and name != target:
                found.append(f"{where}: a module imports its own package's face")
    found += [f"an import circle: {' -> '.join(cycle)}" for cycle in circles(graph)]
    return found


def circles(graph):
    """The import circles of `graph` ({module: {module it imports}}), one path each."""
    found, state = [], {}

    def walk(node, path):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target):], target])
            elif target not in state:
                walk(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def course_sources():
    root = ROOT / "course"
    return {module_name(path, ROOT): path.read_text() for path in sorted(root.rglob("*.py"))}


def test_the_course_has_no_circle_no_upward_import_and_no_import_inside_a_function():
    sources = course_sources()
    assert {package(name) for name in sources} == {*MAY_IMPORT, None}  # every package read
    assert problems(sources) == []


@pytest.mark.parametrize("sources, says", [
    ({"course.core": "", "course.core.a": "from course.grading import x\n",
      "course.grading": ""}, "core may not import grading"),
    ({"course.core": "", "course.core.a": "def f():\n    from course.core.b import x\n",
      "course.core.b": ""}, "inside a function"),
    ({"course.core": "", "course.core.a": "from course.core.b import x\n",
      "course.core.b": "from course.core.a import y\n"}, "an import circle"),
    ({"course.core": "", "course.core.a": "", "course.grading": "",
      "course.grading.b": "from course.core.a import x\n"}, "through its face"),
    ({"course.core": "from course.core.a import x\n",
      "course.core.a": "from course.core import y\n"}, "its own package's face"),
])
def test_the_check_finds_each_kind_of_breach(sources, says):
    found = problems(sources)
    assert any(says in line for line in found), found
