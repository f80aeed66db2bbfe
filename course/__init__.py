"""The course's own code, as packages by role (docs/grading.md, "The code's map"): core,
sandbox, hidden, plugins, grading, queue, term, audit and authoring, each imported through its
face (its __init__.py), with the commands on top (grade.py, demo.py, hub.py).

This file sets what every process of the course needs before anything imports TensorFlow, and
names the course folder (ROOT)."""
import importlib.util
import os
import sys
from pathlib import Path

# nbformat imports jsonschema, which imports rfc3987_syntax where it is installed (jupyter's
# jsonschema[format-nongpl] installs it) and builds an IRI grammar at import: about 1 s of every
# grading process's start (course.grade, each worker), most of importing nbgrader. Only
# jsonschema's "iri" format checks need it, and nothing here checks formats (nbformat validates
# notebooks without them), so the course's processes go without it.
sys.modules.setdefault("rfc3987_syntax", None)
# TensorFlow's C++ log lines (oneDNN's notice, CPU feature guards) say nothing a grader, a test
# or a benchmark acts on; set before any of the course's modules imports TensorFlow
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


ROOT = Path(__file__).resolve().parents[1]  # this code's course folder: the tools' default


def _choose_onednn():
    """TensorFlow's oneDNN kernels where TensorFlow leaves them off (the notebooks' onednn.py,
    one file for both): in this process before it imports TensorFlow, and so in every process
    it starts (grading kernels, workers, notebooks under test). Says so in one line on stderr
    when it set the variable; an explicit TF_ENABLE_ONEDNN_OPTS is left as it is."""
    path = ROOT / "source" / "resnets" / "onednn.py"
    if not path.exists():  # the course's code without its source/ folder: TensorFlow decides
        return
    spec = importlib.util.spec_from_file_location("_course_onednn", path)
    module = importlib.util.module_from_spec(spec)
    given = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    spec.loader.exec_module(module)
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != given:
        print(f"course: {module.NOTE}", file=sys.stderr)


_choose_onednn()
