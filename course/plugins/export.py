"""nbgrader's CSV export plugin (`nbgrader export`, formgrader, course.grade) with the same
columns, rows and options, written by course/core/spreadsheet.py's writer: nbgrader joins the
fields with commas, so a name with a comma or a newline would shift columns or make a row of its
own, and a name a spreadsheet runs as a formula would run."""
from nbgrader.api import MissingEntry
from nbgrader.plugins import CsvExportPlugin

from course.core import spreadsheet


class CsvExport(CsvExportPlugin):
    """nbgrader's grades.csv (CsvExportPlugin's columns, rows, order and options: --to,
    --assignment, --student), written by `writer`: one row per assignment and student, 0 for
    work not handed in. nbgrader_config.py sets it as ExportApp.plugin_class."""

    COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
               "email", "raw_score", "late_submission_penalty", "score", "max_score")

    def rows(self, gradebook):
        """Each row's fields in COLUMNS' order, as nbgrader's plugin finds them."""
        assignments = {str(name) for name in self.assignment}
        students = {str(name) for name in self.student}
        for assignment in gradebook.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gradebook.students:
                if students and student.id not in students:
                    continue
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:  # nothing handed in
                    timestamp, raw, penalty, score = None, 0.0, 0.0, 0.0
                else:
                    timestamp, raw = submission.timestamp, submission.score
                    penalty = submission.late_submission_penalty
                    score = max(0.0, raw - penalty)
                yield (assignment.name, assignment.duedate, timestamp, student.id,
                       student.last_name, student.first_name, student.email, raw, penalty,
                       score, assignment.max_score)

    def export(self, gradebook):
        destination = self.to or "grades.csv"
        self.log.info("Exporting grades to %s", destination)
        if self.assignment:
            self.log.info("Exporting only assignments: %s", list(self.assignment))
        if self.student:
            self.log.info("Exporting only students: %s", list(self.student))
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            table = spreadsheet.writer(handle)
            table.writerow(self.COLUMNS)
            table.writerows(self.rows(gradebook))
