"""nbgrader configuration of the ResNets course (run nbgrader from this folder)."""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "resnets-course"
# The exchange, named here and in the students' configuration (hub/students/nbgrader_config.py;
# tests/test_hub.py holds them equal): nbgrader 0.9's default, made by `python -m course.hub
# setup` (docs/instructor.md)
c.Exchange.root = "/usr/local/share/nbgrader/exchange"
# Root grades (the sandbox needs it); the grader account, which formgrader runs as on a hub,
# collects, grades by hand and makes and releases feedback: each must be able to change what the
# other wrote there. nbgrader's groupshared mode writes its folders setgid and group-writable
# and its files 664, and does not insist on owning the exchange's folders; the course's collect
# and open_to_team (after autograde and generate_feedback) open the student's folders around
# them. Nothing else root writes is the group's: `python -m course.hub setup --grader ACCOUNT`
# gives the group submitted/, autograded/, feedback/ and the gradebook's folder, and only reading
# of the rest (docs/instructor.md, "A teaching team").
c.CourseDirectory.groupshared = True
c.Autograde.post_convert_hook = "course.plugins.team.team_may_write"
c.GenerateFeedback.post_convert_hook = "course.plugins.team.team_may_write"
# ... and root never works through a link the team made in its folders (course/hub.py)
from course.plugins.team import shared_course_problem  # noqa: E402

_problem = shared_course_problem(c.CourseDirectory.root)
if _problem:  # a config error is only logged: stop here
    raise SystemExit(f"error: {_problem}")
# The gradebook: gradebook.db here, or a database that several grading machines share, e.g.
# COURSE_DB_URL=postgresql://grader@db.example.edu/resnets (docs/grading.md).
if os.environ.get("COURSE_DB_URL"):
    c.CourseDirectory.db_url = os.environ["COURSE_DB_URL"]
# Files never copied into release/ nor into autograded/. Hidden references live outside source/,
# in hidden/, so the same list serves both steps (nbgrader uses one ignore list for both).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*", "*.partial.h5"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell limit while autograding (nbgrader's default is 30 s). In grading mode the notebook's
# slowest cell takes about 5 s; 120 s bounds an infinite loop without failing a slow laptop.
c.Execute.timeout = 120
# nbgrader stops a notebook whose kernel sends no output for 4 s (nbclient's iopub_timeout, with
# raise_on_iopub_timeout): a kernel slowed by a loaded machine must not fail its student.
c.Execute.iopub_timeout = 60

# Students delete cells by accident (jupyter/nbgrader#1682): autograde puts a deleted test cell
# back from the gradebook, with a comment saying so, and runs it.
c.OverwriteCells.add_missing_cells = True

# Autograding, however it is started (`nbgrader autograde`, formgrader, course.grade): every
# kernel in a sandbox of its own (course/sandbox/), the hidden tests in that kernel after the
# notebook (course/hidden/), and a grade cell that passed its tests keeps its points when a
# warning went to stderr (nbgrader would give it 0). docs/grading.md.
import sys  # noqa: E402

sys.path.insert(0, c.CourseDirectory.root)
from nbconvert.preprocessors import (ClearMetadataPreprocessor,  # noqa: E402
                                     CoalesceStreamsPreprocessor)
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata,  # noqa: E402
                                    IgnorePattern, LimitOutput, SaveAutoGrades)

from course.plugins.preprocessors import (ExecuteWithHiddenTests, KeepHandGrades,  # noqa: E402
                                          KeepPointsForStderr, OnlyVerdictsScore,
                                          ReleaseFilesOnly)

c.ExecuteWithHiddenTests.hidden_folder = os.path.join(c.CourseDirectory.root, "hidden")
c.ReleaseFilesOnly.source_folder = os.path.join(c.CourseDirectory.root, "source")
c.ExecuteWithHiddenTests.kernel_manager_class = "course.sandbox.SandboxKernelManager"
# ... and where it cannot start (formgrader's Autograde pressed in a grader account), nbgrader
# refuses before removing the graded copy (course/plugins/preprocessors.py: AutogradeExporter)
c.Autograde.exporter_class = "course.plugins.preprocessors.AutogradeExporter"
# cells that grade nothing (demos, training, plots) carry this tag and are not run when grading
c.ExecuteWithHiddenTests.skip_cells_with_tag = "skip-when-grading"
c.SandboxKernelManager.course = c.CourseDirectory.root
# Late submissions lose 10% of their score per started day (course/plugins/late.py).
c.AssignLatePenalties.plugin_class = "course.plugins.late.LatePenalty"
# The autograde pipeline, declared here once: `nbgrader autograde`, formgrader, course.grade and
# its task queue all run this list (a queue's worker runs only ExecuteWithHiddenTests, for the
# coordinator's pipeline: course/queue/). Its steps, in order:
# - ReleaseFilesOnly: only the release's files beside the notebook, whatever else was submitted;
# - ExecuteWithHiddenTests: the notebook, then the hidden tests, in the sandboxed kernel;
# - CoalesceStreamsPreprocessor: consecutive prints of a cell become one output (nbconvert's):
#   how the kernel happened to cut its output into messages no longer shows in the notebook, its
#   feedback page or the lines LimitOutput keeps (it counts each message's last newline as one);
# - IgnorePattern, ClearMetadataPreprocessor, LimitOutput: nbgrader's defaults;
# - OnlyVerdictsScore, KeepPointsForStderr: a cell's score is its tests' verdict;
# - SaveAutoGrades, then KeepHandGrades: a regrade keeps the hand grades of answers that did not
#   change (course/plugins/preprocessors.py);
# - AssignLatePenalties, CheckCellMetadata: nbgrader's.
c.Autograde.autograde_preprocessors = [
    ReleaseFilesOnly, ExecuteWithHiddenTests, CoalesceStreamsPreprocessor, IgnorePattern,
    ClearMetadataPreprocessor, LimitOutput, OnlyVerdictsScore, KeepPointsForStderr,
    SaveAutoGrades, KeepHandGrades, AssignLatePenalties, CheckCellMetadata]
c.CoalesceStreamsPreprocessor.enabled = True  # nbconvert's are off until enabled

# What a student wrote reaches the reader's browser as text, not markup: the feedback page and
# formgrader's page of an autograded notebook (its `formgrade` template, made by an HTMLExporter
# with this config) pass through nbconvert's SanitizeHTML: script, event handlers and unsafe
# output types (JavaScript, SVG) are removed or escaped, in markdown cells and in outputs.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbconvert.preprocessors.sanitize import SanitizeHTML  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

c.SanitizeHTML.enabled = True
# bleach's safe tags, and the images the notebooks' own markdown shows (their diagrams), with
# harmless attributes only (no event handler; src limited to bleach's protocols)
from bleach import ALLOWED_ATTRIBUTES, ALLOWED_TAGS  # noqa: E402

c.SanitizeHTML.tags = sorted({*ALLOWED_TAGS, "img", "p", "br", "pre", "code", "table", "thead",
                              "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "sub", "sup"})
c.SanitizeHTML.attributes = {**ALLOWED_ATTRIBUTES, "img": ["src", "alt", "width", "height",
                                                           "style"]}
c.HTMLExporter.preprocessors = [SanitizeHTML]
# ... and the markdown as rendered is cleaned again: markdown makes links of its own
# ([notes](javascript:...)), which no cleaning of the source sees (course/plugins/feedback.py)
c.HTMLExporter.filters = {"markdown2html": "course.plugins.feedback.markdown2html"}
# ... without TensorFlow's loading messages and without the grader's paths in tracebacks
# (course/plugins/preprocessors.py: DropLibraryLogs, HideServerPaths)
from course.plugins.preprocessors import DropLibraryLogs, HideServerPaths  # noqa: E402

# The late penalty is computed again when feedback is made, from the score as it is then: points
# graded by hand after autograding lose the same share as the rest (nbgrader computes it in
# autograde only, before any hand grade exists).
c.GenerateFeedback.preprocessors = [AssignLatePenalties, GetGrades, CSSHTMLHeaderPreprocessor,
                                    DropLibraryLogs, HideServerPaths, SanitizeHTML]
# ... and nothing fetched from the network: formulas drawn as MathML when the page is made, no
# MathJax script from a CDN (course/plugins/feedback.py)
c.GenerateFeedback.exporter_class = "course.plugins.feedback.FeedbackExporter"

# Collecting from the exchange (`nbgrader collect`, formgrader's Collect button): nothing the
# student wrote is trusted. Links, hard links, special files and entries not owned by the student
# a folder names are refused; the submission time is the exchange's change time, not the
# student's timestamp.txt (course/plugins/exchange.py).
c.ExchangeFactory.collect = "course.plugins.exchange.SafeCollect"
# ... and releasing only into the course's own folders there (groupshared, above, turns off
# nbgrader's check of who owns them; course/plugins/exchange.py: CourseFolders)
c.ExchangeFactory.release_assignment = "course.plugins.exchange.SafeReleaseAssignment"
c.ExchangeFactory.release_feedback = "course.plugins.exchange.SafeReleaseFeedback"

# `nbgrader export` (formgrader, course.grade, course.term): grades.csv written by the csv
# module, a name with a comma, quote or newline kept in its field, and a name a spreadsheet would
# run as a formula (=, +, -, @ ...) starting with a quote (course/core/spreadsheet.py).
c.ExportApp.plugin_class = "course.plugins.export.CsvExport"
