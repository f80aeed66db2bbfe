"""The expected outputs a notebook promises: every measured value it checks against a range
(`check_range(what, value, low, high)`, in a cell that nbval checks in CI) has that range in the
notebook's own text and in docs/results.md, where the measurements behind it are."""
import ast
import importlib.util
import json
import re

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT

RESULTS = (ROOT / "docs" / "results.md").read_text()


def _checks(notebook):
    """(cell, what, low, high) of every check_range call with literal arguments."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_range":
                what, _, low, high = node.args
                found.append((cell, ast.literal_eval(what), ast.literal_eval(low),
                              ast.literal_eval(high)))
    return found


NOTEBOOKS = {name: nbformat.read(a.source(), as_version=4) for name, a in ASSIGNMENTS.items()}
CHECKS = [(name, *check) for name, notebook in NOTEBOOKS.items() for check in _checks(notebook)]


def test_the_resnets_notebook_checks_its_measured_values():
    assert len([c for c in CHECKS if c[0] == "resnets"]) >= 5


@pytest.mark.parametrize("name, cell, what, low, high", CHECKS, ids=lambda x: str(x)[:40])
def test_each_range_is_in_the_text_in_results_and_checked_by_nbval(name, cell, what, low, high):
    stated = f"{what}: {low:g} to {high:g}"
    markdown = "\n".join(c.source for c in NOTEBOOKS[name].cells if c.cell_type == "markdown")
    assert stated in re.sub(r"\s+", " ", markdown), f"the notebook's text does not say {stated!r}"
    assert f"| {what} | {low:g} to {high:g} |" in RESULTS, \
        f"docs/results.md has no row for {what!r}"
    assert "nbval-check-output" in cell.metadata.get("tags", [])
    assert cell.execution_count is not None, "nbval skips a stored output without a count"
    printed = "".join(o.get("text", "") for o in cell.get("outputs", []))
    assert f"{what}: within the expected range, {low:g} to {high:g}" in printed, (
        "the stored output nbval compares with must be the in-range line")


def _benchmark(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runs(log):
    """The JSON lines of a benchmark's log copied to docs/."""
    return [json.loads(line) for line in (ROOT / "docs" / log).read_text().splitlines()
            if line.strip()]


def _assert_results_hold(table):
    for line in table.splitlines():
        assert line in RESULTS, f"docs/results.md lacks the benchmark's table line {line[:60]!r}"


def test_the_beyond_notebook_states_the_validation_runs_table():
    """Section 9's table is the one benchmarks/beyond.py prints (validation_table) from its
    validation runs (docs/beyond_validation.jsonl: every recipe, seeds 0, 1 and 2, 20 epochs on
    864 photos), and results.md holds it; results.md also holds the table of the runs on all
    1,080 photos (docs/beyond.jsonl) that came before."""
    benchmark = _benchmark("beyond")
    runs = _runs("beyond_validation.jsonl")
    for recipe in benchmark.RECIPES:
        mine = [run for run in runs if run["recipe"] == recipe]
        assert sorted(run["seed"] for run in mine) == [0, 1, 2], recipe
        assert {(run["epochs"], run["training_photos"]) for run in mine} == {(20, 864)}, recipe
    table = benchmark.validation_table(runs)
    cell = next(c for c in NOTEBOOKS["beyond"].cells if c.get("id") == "recipes_measured")
    for line in table.splitlines():
        assert line in cell.source.splitlines(), line
    _assert_results_hold(table)
    _assert_results_hold(benchmark.table(_runs("beyond.jsonl")))


def test_results_states_the_pretrained_builds_shifted_scores():
    """results.md's comparison of pretrained builds is the table benchmarks/pretrained_shifts.py
    prints from its log (docs/pretrained_shifts.jsonl), and the notebook's section 9 quotes it."""
    runs = _runs("pretrained_shifts.jsonl")
    assert {run["augmentation"] for run in runs} == {"geometric", "beyond"}
    _assert_results_hold(_benchmark("pretrained_shifts").table(runs))
    side_by_side = ("98c5063f7ce9", "2eab34b09b37")  # built one after the other, 2026-11-29
    by = {run["augmentation"]: run for run in runs if run["sha256"][:12] in side_by_side}
    cell = next(c for c in NOTEBOOKS["beyond"].cells if c.get("id") == "recipes_measured")
    said = " ".join(cell.source.split())
    for kind in ("brightness", "colour"):
        beyond, geometric = by["beyond"]["shifted"][kind], by["geometric"]["shifted"][kind]
        assert f"{kind} {beyond:.2f} against {geometric:.2f}" in said, kind
    assert f"({by['beyond']['test']:.3f} against {by['geometric']['test']:.3f})" in said


def test_the_training_profile_reads_onednn_lines_and_counts_multiply_adds():
    """benchmarks/training_profile.py on two lines as oneDNN 3 prints them (ONEDNN_VERBOSE=1):
    conv5_'s 3x3 convolution, 32 x 2 x 2 outputs x 512 x 512 x 9 multiply-adds, counted by hand;
    a reorder has none; other lines are not executions."""
    profile = _benchmark("training_profile")
    shape = "mb32_ic512oc512_ih2oh2kh3sh1dh0ph1_iw2ow2kw3sw1dw0pw1"
    lines = [f"onednn_verbose,v1,primitive,exec,cpu,convolution,x64:gemm:jit,backward_weights,"
             f"src:f32::blocked:acdb::f0 wei:f32:a:blocked:cdba::f0,,alg:convolution_direct,"
             f"{shape},90.5",
             "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32 dst:f32,,,"
             "512x512x3x3,4.5",
             f"onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,jit:avx2,"
             f"forward_training,src:f32,,alg:convolution_direct,{shape},0.1",
             "I0000 a TensorFlow log line"]
    totals = profile.parse(lines)
    assert dict(totals) == {
        ("convolution", "backward_weights", "x64:gemm:jit", shape): [90.5, 1, 301_989_888],
        ("reorder", "undef", "jit:uni", "512x512x3x3"): [4.5, 1, 0]}
