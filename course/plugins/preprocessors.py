"""nbgrader preprocessors of this course (listed in nbgrader_config.py)."""
import hashlib
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from traitlets import Bool, Integer, List, Unicode
from traitlets.utils.importstring import import_item

from course import sandbox
from course.core import OUTPUT_LIMITS, SUFFIX
from course.hidden import OUTPUT_BYTES, HiddenTests, Signatures


class KeepPointsForStderr(NbGraderPreprocessor):
    """Keep the points of a grade cell that passed its tests but wrote to stderr.

    nbgrader scores 0 any grade cell with stderr output (nbgrader.utils.determine_grade), so a
    correct answer that makes Keras or NumPy print a warning (a UserWarning for
    `Model(model.inputs, ...)`, a DeprecationWarning for `np.array(variable)`) would lose its
    points with "All tests passed!" above. Our tests fail by raising, so in a grade cell without
    an error this preprocessor turns the stderr output into stdout under a `note` line: the
    student still sees the warning, the cell keeps its points, and the cell's metadata
    (`KEY`) records the warning's first line for the grading report. Runs after Execute and
    before SaveAutoGrades.
    """
    KEY = "course_stderr_kept"
    note = Unicode("[written to stderr: a warning, which does not cost points]\n",
                   help="The line put before stderr text that was turned into stdout.").tag(
        config=True)

    def preprocess_cell(self, cell, resources, index):
        if (cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell)
                or any(output.output_type == "error" for output in cell.outputs)):
            return cell, resources
        streams = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        if streams:
            first = next((line for o in streams for line in o.text.splitlines() if line.strip()),
                         "")
            for output in streams:
                output.name = "stdout"
            streams[0].text = self.note + streams[0].text
            cell.metadata[self.KEY] = first.strip()[:300]
        return cell, resources


class ExecuteWithHiddenTests(Execute):
    """nbgrader's Execute, then the assignment's hidden tests in the same kernel.

    Before running the notebook it appends the hidden tests' cells (course/hidden/judge.py); after,
    it takes them out and gives every test cell `FUNCTION_tests` whose hidden tests failed an error
    output (`ERROR_NAME`) saying what differs, so SaveAutoGrades scores it 0 and the feedback
    shows why, under the test (its last output). Every test cell's metadata (`VERDICT`) records
    the verdict as data for the grading report: {"passed": true} or {"passed": false, "message":
    what differs, "misconception": the cataloged mistake its outputs show, where one does
    (course/hidden/signatures.py)}; the error then names that mistake in a line
    (`name_misconceptions`). A submission's cells are the student's: every metadata key the course's
    preprocessors write (GRADER_KEYS) is removed from them first, so that the report never reads
    one the student wrote. An assignment without a hidden/ folder runs as with Execute.

    Cells tagged `skip_cells_with_tag` (nbclient's option; nbgrader_config.py sets
    "skip-when-grading", which the instructor notebook puts on the cells that grade nothing:
    demos, training, plots) are not run. Tags in a submission are the student's, so the tag is
    removed from test and answer cells first: those always run.

    What the kernel sends is kept up to `max_cell_output_characters` per cell and
    `max_notebook_output_characters` per notebook, counted as each message arrives (nbgrader's
    LimitOutput counts stream lines only, after the whole notebook is in memory: eight
    `display()` calls of 48 MiB made a 400 MB autograded notebook and feedback page). Past
    them a message is dropped, not kept; the cell gets one line saying so and its metadata
    (`OUTPUT_CUT`) what was cut, for the grading report. An error is always kept, its text cut
    to `max_error_characters` (it is the cell's verdict); the hidden tests' own cells have a budget
    of their own (what they may publish, course.core.settings.Settings.output_bytes).
    """
    ERROR_NAME = "HiddenTestFailure"
    VERDICT = "course_hidden_verdict"
    OUTPUT_CUT = "course_output_cut"
    _first_hidden, _kept, _cut = 0, None, None  # set for each notebook (preprocess)
    max_cell_output_characters, max_notebook_output_characters, max_error_characters = (
        Integer(default, help=help).tag(config=True) for default, help in OUTPUT_LIMITS.values())
    hidden_folder = Unicode("", help="The folder holding ASSIGNMENT/hidden_checks.py and "
                            "ASSIGNMENT/references.npz for each assignment with hidden "
                            "tests.").tag(config=True)
    executor = Unicode("", help="Where the notebook runs: empty for here, in a kernel of "
                       "`kernel_manager_class`; else the import path of a function (notebook, "
                       "resources) -> the notebook as this step leaves it, which has this step "
                       "run elsewhere (`course.grade --queue` sets "
                       "course.queue.coordinator.run_on_worker: a queue's worker runs it).").tag(
        config=True)
    message = Unicode("The grader's hidden tests (run after your notebook, with other inputs) "
                      "failed, so this cell scores 0: ",
                      help="The start of the error under a test cell whose hidden tests "
                           "failed.").tag(config=True)

    name_misconceptions = Bool(True, help="Under a cell whose hidden tests failed, name the "
                               "cataloged mistake its outputs show (hidden/ASSIGNMENT/"
                               "signatures.npz), in the catalog's words: one line, the score "
                               "unchanged. False: the reports still count them, the student's "
                               "feedback says nothing of them.").tag(config=True)
    looks_like = Unicode("This looks like a mistake many make: {why}.",
                         help="The line naming the likely mistake ({why}: the catalog's "
                              "words).").tag(config=True)

    @classmethod
    def verdict_of(cls, cell):
        """The verdict this preprocessor wrote on `cell`; {"passed": True} where it wrote none."""
        return cell.metadata.get(cls.VERDICT) or {"passed": True}

    @classmethod
    def error_of(cls, cell):
        """The error output this preprocessor put under `cell` for failed hidden tests (its last
        output), or None."""
        outputs = cell.get("outputs", [])
        if (not cls.verdict_of(cell)["passed"] and outputs
                and outputs[-1].output_type == "error" and outputs[-1].ename == cls.ERROR_NAME):
            return outputs[-1]
        return None

    def preprocess(self, nb, resources=None, km=None):
        if self.executor:
            return import_item(self.executor)(nb, resources), resources
        hidden = None
        if self.hidden_folder:
            hidden = HiddenTests.of(self.hidden_folder, resources["nbgrader"]["assignment"])
        for cell in nb.cells:
            for key in GRADER_KEYS:
                cell.metadata.pop(key, None)
            tags = cell.metadata.get("tags")
            if (tags and self.skip_cells_with_tag in tags
                    and (utils.is_grade(cell) or utils.is_solution(cell))):
                cell.metadata.tags = [tag for tag in tags if tag != self.skip_cells_with_tag]
        added = hidden.cells() if hidden is not None else []
        self._first_hidden, self._kept, self._cut = len(nb.cells), {}, {}
        nb.cells.extend(added)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            ran = nb.cells[len(nb.cells) - len(added):]
            del nb.cells[len(nb.cells) - len(added):]
            for index, cut in self._cut.items():
                nb.cells[index].metadata[self.OUTPUT_CUT] = cut
        if hidden is None:
            return nb, resources
        tests = {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
                 if utils.is_grade(cell) and cell.cell_type == "code"}
        published = hidden.published(ran)
        signatures = Signatures.of(hidden)
        for function, message in hidden.verdicts(published).items():
            cell = tests.get(function + SUFFIX)
            if cell is None:
                continue
            if message is None:
                cell.metadata[self.VERDICT] = {"passed": True}
                continue
            verdict = {"passed": False, "message": message}
            likely = signatures.likely(function, published[function], self.public_error(cell))
            if likely:
                verdict["misconception"] = likely.name
                if self.name_misconceptions:
                    message += f"\n{self.looks_like.format(why=likely.why)}"
            cell.metadata[self.VERDICT] = verdict  # a copy: NotebookNode converts what it is given
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename=self.ERROR_NAME, evalue=self.message + message,
                traceback=[f"\x1b[0;31m{self.ERROR_NAME}\x1b[0m: {self.message}{message}"]))
        return nb, resources

    @classmethod
    def public_error(cls, cell):
        """The first line of the error the public test `cell` raised ("Type: text"), or None."""
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"
                  and o.ename != cls.ERROR_NAME]
        if not errors:
            return None
        return f"{errors[0].ename}: {(str(errors[0].evalue).splitlines() or [''])[0]}"

    # --- what the kernel sends, bounded as it arrives ---------------------------------------
    def process_message(self, msg, cell, cell_index):
        kind = msg["msg_type"]
        if kind in ("status", "execute_input", "clear_output"):
            return super().process_message(msg, cell, cell_index)
        content = msg["content"]
        if kind == "error":  # always kept: the cell's verdict; its text cut
            limit, lines = self.max_error_characters, content.get("traceback", [])
            content["evalue"] = str(content.get("evalue", ""))[:limit]
            if len(lines) > 100:  # its first and last frames (LimitOutput keeps 100 lines)
                lines = lines[:50] + lines[-50:]
            content["traceback"] = [str(line)[:limit] for line in lines]
            return super().process_message(msg, cell, cell_index)
        size = _characters(content)
        hidden = cell_index >= self._first_hidden
        cell_limit = 2 * OUTPUT_BYTES if hidden else self.max_cell_output_characters
        kept = self._kept.get(cell_index, 0)
        total = sum(n for i, n in self._kept.items() if i < self._first_hidden) + size
        if kept + size <= cell_limit and (hidden or total <= self.max_notebook_output_characters):
            self._kept[cell_index] = kept + size
            return super().process_message(msg, cell, cell_index)
        if hidden:
            return None
        cut = self._cut.setdefault(cell_index, {"outputs": 0, "characters": 0})
        if not cut["outputs"]:
            which, limit = (("this cell's", cell_limit) if kept + size > cell_limit
                            else ("the notebook's", self.max_notebook_output_characters))
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                f"\n[the grader kept no more of this cell's output: past {which} limit of "
                f"{limit:,} characters]\n")))
        cut["outputs"] += 1
        cut["characters"] += size
        return None


class OnlyVerdictsScore(NbGraderPreprocessor):
    """No output of the student's code sets a score: in every autograded code cell (a grade
    cell that is not an answer), each `execute_result` becomes `display_data` (shown the same).

    nbgrader's `determine_grade` reads a grade cell's first `execute_result` that holds a
    number as the cell's partial score and returns before it looks at the outputs after it. A
    test cell whose last line evaluates to `3.0` (a test function rebound to a wrapper that
    swallows the failure and returns the points) would then score 3 / 3 above the hidden tests'
    error saying it scores 0. Our tests report by raising, never by a value, so after this only
    errors (the public tests', the hidden tests' verdict) and stderr decide a cell's points.
    Runs after Execute and before SaveAutoGrades; the cell's metadata (`KEY`) records how many
    results were turned, for the grading report."""
    KEY = "course_results_not_scored"

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        for output in results:
            output.output_type = "display_data"
            output.pop("execution_count", None)
        if results:
            cell.metadata[self.KEY] = len(results)
        return cell, resources


class DropLibraryLogs(NbGraderPreprocessor):
    """The feedback page leaves out what TensorFlow's C++ runtime writes to stderr while it
    loads: absl's "WARNING: All log messages before absl::InitializeLog() is called are written
    to STDERR" (once per TensorFlow library, so twice) and its log lines (`I0000 00:00:...
    port.cc:153] oneDNN custom operations are on...`, the CUDA probes of a machine without a
    GPU). TF_CPP_MIN_LOG_LEVEL does not silence them in TensorFlow 2.21, nothing in them is
    about the student's work, and they would open every page. Only whole stderr lines that match
    `patterns` go; every other output stays, and the autograded notebook keeps them all."""
    patterns = List(Unicode(), [
        r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
        r"STDERR",
        # absl's prefix: level, MMDD, hh:mm:seconds (since the epoch here), thread, file:line
        r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.-]+\.(cc|h):\d+\] .*",
    ], help="Regular expressions of whole stderr lines left out of the feedback page.").tag(
        config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        patterns = [re.compile(pattern) for pattern in self.patterns]
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                lines = output.text.splitlines(keepends=True)
                output.text = "".join(line for line in lines if not any(
                    pattern.fullmatch(line.rstrip("\n")) for pattern in patterns))
                if not output.text:
                    continue
            kept.append(output)
        cell.outputs = kept
        return cell, resources


class AutogradeExporter(NotebookExporter):
    """nbgrader autograde's exporter, made before nbgrader touches the autograded folder: where
    the submission's kernel would run in the sandbox (the course's kernel manager) and the
    sandbox cannot start here (not root, no bubblewrap), it refuses then, with one line and
    nothing changed. Without it nbgrader removes `autograded/STUDENT/ASSIGNMENT` first and the
    kernel's refusal comes after: formgrader's Autograde, pressed by a grader account, would
    take the graded copy from Manual Grading."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        manager = self.config.ExecuteWithHiddenTests.get("kernel_manager_class", "")
        if "SandboxKernelManager" in str(manager):
            problem = sandbox.unavailable()
            if problem:
                raise sandbox.SandboxError(
                    f"cannot sandbox student code: {problem} Nothing was changed: the graded "
                    "copy and its grades stay. Grade as root in the course folder (`make "
                    "autograde`, or `python -m course.grade --assignment ASSIGNMENT STUDENT`).")


class HideServerPaths(NbGraderPreprocessor):
    """The feedback page names the grader's files by what the student knows: in error
    tracebacks and printed text, the notebook's folder on the grading machine
    (`/srv/course/autograded/STUDENT/resnets/public_tests.py:42`) becomes the file's own name
    (`public_tests.py:42`), and the grader's Python environment `<python>`. A notebook graded
    on a queue worker names the worker's copy of the course: any absolute path, without spaces,
    that ends in the same `autograded/STUDENT/ASSIGNMENT/` is the notebook's folder too. The
    autograded notebook keeps them all (the grading report reads it); only the page changes."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        found = [(os.path.realpath(sys.prefix), "<python>/"), (sys.prefix, "<python>/")]
        self.elsewhere = None
        if folder:  # the page is made from the autograded notebook in its folder
            found += [(str(Path(folder).resolve()), ""), (os.path.abspath(folder), "")]
            tail = "/".join(Path(folder).resolve().parts[-3:])
            self.elsewhere = re.compile(r"/(?:[^/\s\x1b\"'<>]+/)*" + re.escape(tail + "/"))
        # the longest first: the notebook's folder before a Python environment around it
        self.prefixes = sorted({(path + os.sep, shown) for path, shown in found},
                               key=lambda pair: -len(pair[0]))
        return super().preprocess(nb, resources)

    def _hidden(self, text):
        for prefix, shown in self.prefixes:
            text = text.replace(prefix, shown)
        return self.elsewhere.sub("", text) if self.elsewhere else text

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [self._hidden(line) for line in output.traceback]
                output.evalue = self._hidden(output.evalue)
            elif output.output_type == "stream":
                output.text = self._hidden(output.text)
        return cell, resources


# nbgrader's own files in a submission: the time and the feedback's key (release_feedback
# reads them from the feedback folder, which generate_feedback fills from autograded/); no
# Python import can find a module in them
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def release_paths(source_folder, assignment, notebook):
    """Paths (relative, their parent folders included) that the autograded folder of
    `assignment` may hold: the notebook, nbgrader's own files and what
    SOURCE_FOLDER/ASSIGNMENT holds."""
    source = Path(source_folder) / assignment
    allowed = {notebook, *NBGRADER_FILES}
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        allowed.update({str(relative), *(str(parent) for parent in relative.parents)})
    return allowed - {"."}


def extra_paths(folder, allowed):
    """Paths under `folder` (relative) outside `allowed`, topmost only; nothing followed."""
    extra = []
    for parent, folders, files in os.walk(folder, topdown=True, followlinks=False):
        keep = []
        for name in [*folders, *files]:
            relative = str((Path(parent) / name).relative_to(folder))
            if relative not in allowed:
                extra.append(relative)
            elif name in folders:
                keep.append(name)
        folders[:] = keep
    return sorted(extra)


class ReleaseFilesOnly(NbGraderPreprocessor):
    """The notebook runs beside the assignment's own files alone: before it runs, whatever the
    submission brought beside it that the source folder does not have is removed from the
    autograded copy (the submitted folder keeps it, and the grading report lists it).

    nbgrader copies every file of the submission into autograded/, then the source folder's
    files over them; an extra file stays, and Python imports it before the course's: a folder
    `public_tests/` (a package) beside the notebook shadows `public_tests.py` and can silence
    every public test. Nothing is followed: a link is removed as a link. Runs first in the
    autograde pipeline, and only there (nbgrader sets NBGRADER_EXECUTION=autograde around it):
    never on submitted/."""
    source_folder = Unicode("", help="The folder holding each assignment's source folder "
                            "(CourseDirectory.root/source): the files the notebook may run "
                            "beside are those of SOURCE/ASSIGNMENT.").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.source_folder or os.environ.get("NBGRADER_EXECUTION") != "autograde":
            return nb, resources
        folder = Path(resources["metadata"]["path"])
        allowed = release_paths(self.source_folder, resources["nbgrader"]["assignment"],
                                resources["unique_key"] + ".ipynb")
        for relative in extra_paths(folder, allowed):
            path = folder / relative
            if stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path)
            else:
                path.unlink()
        return nb, resources


class KeepHandGrades(NbGraderPreprocessor):
    """A regrade keeps the hand grades of written answers that did not change, and drops those
    of answers that did.

    nbgrader's SaveAutoGrades marks every cell graded by hand as needing a grade again whenever
    the notebook is autograded again (a resubmission, a fixed test): with a class of hundreds,
    every written answer back in the queue. Here, for each cell graded by hand (a grade cell that
    is also an answer: the written answers), its text and pasted images are compared with those
    of the previous autograde, whose SHA-256 (`checksum`) this preprocessor keeps in the
    gradebook's database (table `course_answer_sources`): unchanged, the hand grade stays
    graded, score and comment; changed, the hand grade and its comment are removed (they were
    given to another answer) and the cell waits for a hand again; never seen before (a
    gradebook older than this table), nbgrader's own behaviour: the grade kept, waiting for
    review. The cell's metadata (`KEY`: "kept" or "cleared") tells the grading report. A hand
    override of an autograded test cell is left to nbgrader (kept, flagged for review): its
    score depends on more than one cell. Runs after SaveAutoGrades and before
    AssignLatePenalties, so the late penalty counts the hand-graded points."""
    KEY = "course_hand_grade"
    TABLE = "course_answer_sources"

    @staticmethod
    def checksum(cell):
        """SHA-256 of what a hand grade was given to: the answer's text and the images pasted
        into it (its attachments: the same text with another plot is another answer). An
        answer without attachments keeps the checksum of its text alone, as gradebooks made
        before attachments counted hold it."""
        answer = cell.source
        if cell.get("attachments"):
            answer += "\0" + json.dumps(cell.attachments, sort_keys=True)
        return hashlib.sha256(answer.encode()).hexdigest()

    @classmethod
    def create_table(cls, session):
        """The table of answer checksums, in the gradebook's database, if it is not there.
        course.grade makes it before its workers start: two first CREATEs at once can collide
        on PostgreSQL even with IF NOT EXISTS, and then the other one made it."""
        try:
            session.execute(text(
                f"CREATE TABLE IF NOT EXISTS {cls.TABLE} (assignment VARCHAR(128) NOT NULL, "
                "student VARCHAR(128) NOT NULL, notebook VARCHAR(128) NOT NULL, cell "
                "VARCHAR(128) NOT NULL, checksum VARCHAR(64) NOT NULL, PRIMARY KEY (assignment, "
                "student, notebook, cell))"))
            session.commit()
        except SQLAlchemyError:
            session.rollback()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        where = {"assignment": info["assignment"], "student": info["student"],
                 "notebook": info["notebook"]}
        with Gradebook(info["db_url"]) as gradebook:
            session = gradebook.db
            self.create_table(session)
            for cell in nb.cells:
                if not (utils.is_grade(cell) and utils.is_solution(cell)):
                    continue
                grade_id = cell.metadata.nbgrader["grade_id"]
                grade = gradebook.find_grade(grade_id, info["notebook"], info["assignment"],
                                             info["student"])
                checksum = self.checksum(cell)
                before = session.execute(text(
                    f"SELECT checksum FROM {self.TABLE} WHERE assignment = :assignment AND "
                    "student = :student AND notebook = :notebook AND cell = :cell"),
                    {**where, "cell": grade_id}).scalar()
                if grade.manual_score is not None and before is not None:
                    if before == checksum:
                        grade.needs_manual_grade = False
                        cell.metadata[self.KEY] = "kept"
                    else:
                        grade.manual_score, grade.needs_manual_grade = None, True
                        gradebook.find_comment(grade_id, info["notebook"], info["assignment"],
                                               info["student"]).manual_comment = None
                        cell.metadata[self.KEY] = "cleared"
                session.execute(text(
                    f"INSERT INTO {self.TABLE} (assignment, student, notebook, cell, checksum) "
                    "VALUES (:assignment, :student, :notebook, :cell, :checksum) ON CONFLICT "
                    "(assignment, student, notebook, cell) DO UPDATE SET checksum = "
                    "excluded.checksum"), {**where, "cell": grade_id, "checksum": checksum})
            session.commit()
        return nb, resources


# The cell metadata the course's preprocessors write, which the grading report reads: removed
# from a submission's cells before anything runs (ExecuteWithHiddenTests)
GRADER_KEYS = (ExecuteWithHiddenTests.VERDICT, ExecuteWithHiddenTests.OUTPUT_CUT,
               OnlyVerdictsScore.KEY, KeepPointsForStderr.KEY, KeepHandGrades.KEY)


def _characters(value):
    """The characters of text in a message's content (its data, texts and metadata)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(key)) + _characters(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_characters(item) for item in value)
    return len(str(value))
