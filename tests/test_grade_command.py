"""course.grade's own logic, without running nbgrader: shards, the submission check, bad input."""
import pytest

from course import grade


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_split_the_class_into_disjoint_shares_that_cover_it(n):
    students = [f"student-{i:03d}" for i in range(23)]
    shares = [grade.shard(students, f"{k}/{n}") for k in range(1, n + 1)]
    assert sorted(s for share in shares for s in share) == students
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize("spec", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_a_bad_shard_is_one_error_line(spec):
    with pytest.raises(SystemExit, match=r"--shard .*expected K/N with 1 <= K <= N"):
        grade.shard(["a"], spec)


def _submit(root, student, name, data):
    folder = root / "submitted" / student / "resnets"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)


def test_submission_check_names_the_file_the_problem_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(grade, "ROOT", tmp_path)
    _submit(tmp_path, "renamed", "Residual_Networks (1).ipynb", b"{}")
    _submit(tmp_path, "cut", "Residual_Networks.ipynb", b'{"cells": [')
    _submit(tmp_path, "fine", "Residual_Networks.ipynb",
            b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert grade.check_submission("renamed") == (
        "no Residual_Networks.ipynb in submitted/renamed/resnets/ (found: Residual_Networks (1)"
        ".ipynb). Fix: submit the notebook under its original name.")
    cut = grade.check_submission("cut")
    assert cut.startswith("submitted/cut/resnets/Residual_Networks.ipynb is not a valid notebook")
    assert cut.endswith("Fix: open it in Jupyter, save it, and submit again.")
    assert grade.check_submission("fine") is None
    assert grade.check_submission("absent").startswith("no Residual_Networks.ipynb in submitted/"
                                                       "absent/resnets/ (found: no notebook)")


def test_no_submissions_or_no_gradebook_is_one_error_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grade, "ROOT", tmp_path)
    assert grade.main([]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: submitted/ has no submissions. Fix: run `make submissions`.")
    _submit(tmp_path, "someone", "Residual_Networks.ipynb", b"{}")
    assert grade.main([]) == 2
    assert "gradebook.db has no assignment 'resnets'. Fix: run `make release`" in (
        capsys.readouterr().err)
