"""The course's late policy, an nbgrader plugin (nbgrader_config.py sets it as
AssignLatePenalties.plugin_class): a submission after the due date loses `percent_per_day` of
its score for every started day late, down to 0. nbgrader computes how late from the
submission's timestamp (written by `nbgrader submit`) and the assignment's due date
(`nbgrader db assignment add ASSIGNMENT --duedate=...`), and the feedback shows the penalty."""
import math

from nbgrader.plugins import BasePlugin
from traitlets import Float


class LatePenalty(BasePlugin):
    percent_per_day = Float(10.0, help="Percent of the score lost per started day late.").tag(
        config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * self.percent_per_day / 100 * days)
