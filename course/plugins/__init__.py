"""What nbgrader_config.py names, nbgrader's own extension points: the autograde pipeline's
preprocessors (preprocessors.py), the safe collect step (exchange.py), the late policy
(late.py), the feedback page's exporter and its cleaning (feedback.py, templates/) and the
teaching team's share of the course folder (team.py, the post-convert hooks). This file is the
face the other packages call.
"""
from course.plugins.exchange import MAX_DEPTH, RefusedEntry, inspect, trusted_owner
from course.plugins.preprocessors import (DropLibraryLogs, ExecuteWithHiddenTests, GRADER_KEYS,
                                          HideServerPaths, KeepHandGrades, KeepPointsForStderr,
                                          OnlyVerdictsScore, extra_paths, release_paths)
from course.plugins.team import GRADEBOOK, TEAM_WRITES, give_group

__all__ = ["DropLibraryLogs", "ExecuteWithHiddenTests", "GRADEBOOK", "GRADER_KEYS",
           "HideServerPaths", "KeepHandGrades", "KeepPointsForStderr", "MAX_DEPTH",
           "OnlyVerdictsScore", "RefusedEntry", "TEAM_WRITES", "extra_paths", "give_group",
           "inspect", "release_paths", "trusted_owner"]
