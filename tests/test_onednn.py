"""TensorFlow's oneDNN kernels where TensorFlow leaves them off (onednn.py, which the notebooks
and the course's processes import before TensorFlow), never over the user's own choice; and
grading holds either way: the instructor solutions and every correct variant keep full marks
with oneDNN off, through nbgrader (the grade audit, tests/test_grading.py, grades them with it
on wherever this runs: the course's choice on an AVX2 CPU, TensorFlow's own on AVX-512 VNNI)."""
import os
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, full_marks, graded

from course import audit, sandbox
from course.core import assignments, use_folder

use_folder(ROOT / "source" / "resnets")
import onednn  # noqa: E402

ASSIGNMENTS = list(assignments(ROOT).values())
AVX2 = {"fma", "avx", "avx2", "f16c"}


@pytest.mark.parametrize("environ, machine, flags, loaded, value, note", [
    ({}, "x86_64", AVX2, False, "1", "oneDNN: on (TF_ENABLE_ONEDNN_OPTS=1 set by onednn.py"),
    ({}, "AMD64", None, False, "1", "oneDNN: on (TF_ENABLE_ONEDNN_OPTS=1 set by onednn.py"),
    ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "x86_64", AVX2, False, "0",
     "oneDNN: TF_ENABLE_ONEDNN_OPTS=0 from your environment, left as it is"),
    ({}, "x86_64", AVX2 | {"avx512f", "avx512_vnni"}, False, None,
     "oneDNN: on, TensorFlow's own choice on this CPU"),
    ({}, "aarch64", {"asimd"}, False, None, "oneDNN: left to TensorFlow (a aarch64 CPU, not x86)"),
    ({}, "x86_64", AVX2, True, None, "oneDNN: off: TensorFlow was imported before onednn.py"),
])
def test_the_choice_and_its_note(environ, machine, flags, loaded, value, note):
    assert onednn.choose(environ, machine, flags, loaded).startswith(note)
    assert environ.get("TF_ENABLE_ONEDNN_OPTS") == value


def test_cpu_flags_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma\n")
    assert onednn.cpu_flags(cpuinfo) == {"fpu", "avx2", "fma"}
    assert onednn.cpu_flags(tmp_path / "absent") is None


def _mkl_enabled(environment):
    code = ("import course; from tensorflow.python.util import _pywrap_util_port; "
            "print(_pywrap_util_port.IsMklEnabled())")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**env, **environment})
    assert run.returncode == 0, run.stderr[-1000:]
    return run.stdout.strip().splitlines()[-1], run.stderr


@pytest.mark.skipif(onednn.platform.machine() != "x86_64", reason="oneDNN's switch is x86's")
def test_the_course_processes_get_onednn_and_an_explicit_choice_wins():
    enabled, said = _mkl_enabled({})
    assert enabled == "True"
    flags = onednn.cpu_flags() or set()
    if not flags & set(onednn.TENSORFLOW_TURNS_IT_ON):  # TensorFlow would have left it off
        assert "course: oneDNN: on (TF_ENABLE_ONEDNN_OPTS=1 set by onednn.py" in said
    assert _mkl_enabled({"TF_ENABLE_ONEDNN_OPTS": "0"})[0] == "False"


def test_the_grading_kernel_gets_the_graders_choice():
    assert "TF_ENABLE_ONEDNN_OPTS" in sandbox.PASSED_ENVIRONMENT


def test_the_solutions_and_correct_variants_keep_full_marks_with_onednn_off(datasets_dir):
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"grading needs the per-submission sandbox: {problem}")
    files, expected = audit.audit_submissions({"port": 0}, ASSIGNMENTS, attacks=[])
    chosen = {name: {s: f for s, f in students.items()
                     if s == "instructor-solution" or s.startswith("catalog-variants-")}
              for name, students in files.items()}
    course = ROOT / "build" / "onednn-off"
    audit.prepare(chosen, course=course)
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    for assignment in ASSIGNMENTS:
        students = sorted(chosen[assignment.name])
        assert len(students) >= 2  # the solution and at least one pack of variants
        run = subprocess.run([sys.executable, "-m", "course.grade", "--assignment",
                              assignment.name, "--", *students], cwd=course, env=environment,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        _, scores = graded(course, assignment)
        for student in students:
            assert scores[student] == ("graded", full_marks(assignment)), (assignment.name,
                                                                          student)
        notebook = (course / "autograded" / "instructor-solution" / assignment.name /
                    assignment.notebook).read_text()
        assert "oneDNN: TF_ENABLE_ONEDNN_OPTS=0 from your environment" in notebook  # its kernel's


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_the_imports_cell_shows_the_student_no_tensorflow_loading_lines(assignment):
    """The release notebook's imports cell, run in a Jupyter kernel in the release folder as a
    student's would be (TensorFlow's loading lines were three red lines under it)."""
    from nbclient import NotebookClient

    release = nbformat.read(assignment.release(), as_version=4)
    imports = next(cell for cell in release.cells
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(imports.source)])
    NotebookClient(notebook, timeout=300, resources={"metadata": {
        "path": str(assignment.release().parent)}}).execute()
    outputs = notebook.cells[0].outputs
    assert [o.get("name") for o in outputs if o.output_type == "stream"] == ["stdout"], outputs
    assert "oneDNN:" in outputs[0].text and "Keras" in outputs[0].text


def test_a_quiet_import_still_shows_what_is_not_a_loading_line(tmp_path):
    """Lines written to file descriptor 2 while a module loads: TensorFlow's loading lines are
    held back, anything else is shown."""
    (tmp_path / "loud.py").write_text(
        "import os\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\\n')\n"
        "os.write(2, b'I0000 00:00:1796627390.796379   26385 port.cc:153] oneDNN custom "
        "operations are on.\\n')\n"
        "os.write(2, b'E0000 00:00:1796627390.796811   26385 cuda_dnn.cc:8] a real error\\n')\n"
        "os.write(2, b'my own warning\\n')\n")
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
            "import onednn\nonednn.import_quietly('loud')\nprint('done')\n")
    run = subprocess.run([sys.executable, "-c", code, str(ROOT / "source" / "resnets"),
                          str(tmp_path)], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0 and run.stdout == "done\n", run.stderr
    assert run.stderr.splitlines() == [
        "E0000 00:00:1796627390.796811   26385 cuda_dnn.cc:8] a real error", "my own warning"]
