"""nbgrader preprocessors of this course (listed in nbgrader_config.py)."""
import nbformat
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from course.assignments import SUFFIX
from course.hidden import HiddenTests


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

    Before running the notebook it appends the hidden tests' cells (course/hidden.py); after, it
    takes them out and gives every test cell `FUNCTION_tests` whose hidden tests failed an error
    output (`ERROR_NAME`) saying what differs, so SaveAutoGrades scores it 0 and the feedback
    shows why, under the test. An assignment without a hidden/ folder runs as with Execute.

    Cells tagged `skip_cells_with_tag` (nbclient's option; nbgrader_config.py sets
    "skip-when-grading", which the instructor notebook puts on the cells that grade nothing:
    demos, training, plots) are not run. Tags in a submission are the student's, so the tag is
    removed from test and answer cells first: those always run.
    """
    ERROR_NAME = "HiddenTestFailure"
    hidden_folder = Unicode("", help="The folder holding ASSIGNMENT/hidden_checks.py and "
                            "ASSIGNMENT/references.npz for each assignment with hidden "
                            "tests.").tag(config=True)
    message = Unicode("The grader's hidden tests (run after your notebook, with other inputs) "
                      "failed, so this cell scores 0: ",
                      help="The start of the error under a test cell whose hidden tests "
                           "failed.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        hidden = None
        if self.hidden_folder:
            hidden = HiddenTests.of(self.hidden_folder, resources["nbgrader"]["assignment"])
        for cell in nb.cells:
            tags = cell.metadata.get("tags")
            if (tags and self.skip_cells_with_tag in tags
                    and (utils.is_grade(cell) or utils.is_solution(cell))):
                cell.metadata.tags = [tag for tag in tags if tag != self.skip_cells_with_tag]
        if hidden is None:
            return super().preprocess(nb, resources, km)
        added = hidden.cells()
        nb.cells.extend(added)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            ran = nb.cells[len(nb.cells) - len(added):]
            del nb.cells[len(nb.cells) - len(added):]
        tests = {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
                 if utils.is_grade(cell) and cell.cell_type == "code"}
        for function, message in hidden.verdicts(ran).items():
            cell = tests.get(function + SUFFIX)
            if cell is not None and message is not None:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename=self.ERROR_NAME, evalue=self.message + message,
                    traceback=[f"\x1b[0;31m{self.ERROR_NAME}\x1b[0m: {self.message}{message}"]))
        return nb, resources
