"""nbgrader preprocessors of this course (listed in nbgrader_config.py)."""
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


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
