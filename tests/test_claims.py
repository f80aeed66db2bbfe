"""Every number a notebook states from a measurement, read from the log it comes from.

Each claim below is a sentence of a notebook's text (source/, which `make release` copies to
release/), rebuilt here from the JSON lines a benchmark wrote (docs/*.jsonl; the benchmark and
its command are named in docs/results.md) and looked for, word for word, in the cell that states
it. A rerun of a benchmark whose numbers move, or a text edited without its log, fails here:
the notebook and its log cannot drift apart. tests/test_expected.py holds the ranges that the
check cells test; this file holds what the text says was measured.
"""
import functools
import json
import math
import re
import statistics

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT

from course.authoring.data import PRETRAINED_SHA256 as SHIPPED


def records(log, **where):
    """The JSON lines of docs/LOG whose fields equal `where`; at least one, or the test fails."""
    path = ROOT / "docs" / log
    assert path.is_file(), f"{path}: missing; the benchmark that writes it is in docs/results.md"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    found = [row for row in rows if all(row.get(key) == value for key, value in where.items())]
    assert found, f"docs/{log} has no record with {where}"
    return found


def span(values, digits, outward=False):
    """'lo to hi' at `digits` decimals, or one number when both read the same; `outward` rounds
    the low end down and the high end up, so that the range holds every value."""
    low, high = min(values), max(values)
    if outward:
        low = math.floor(low * 10 ** digits) / 10 ** digits
        high = math.ceil(high * 10 ** digits) / 10 ** digits
    low, high = f"{low:.{digits}f}", f"{high:.{digits}f}"
    return low if low == high else f"{low} to {high}"


@functools.cache
def cells(assignment):
    """{cell id: cell} of the assignment's instructor notebook, read once."""
    notebook = nbformat.read(ASSIGNMENTS[assignment].source(), as_version=4)
    return {cell.get("id"): cell for cell in notebook.cells}


def setting(assignment, cell_id, pattern):
    """The integers a notebook's code cell sets, found by `pattern`: the budgets the notebook
    runs now, which the logs it quotes must have been measured with."""
    source = cells(assignment)[cell_id].source
    found = re.search(pattern, source)
    assert found, f"{assignment} [{cell_id}] no longer matches {pattern!r}"
    return tuple(int(value) for value in found.groups())


def words(count):
    return {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}.get(count, str(count))


# resnets: sections 6 and 7 (benchmarks/bn_generalization.py --recipes cosine --epochs 4)
def resnets_training():
    epochs, = setting("resnets", "train", r"model\.fit\(X_train, Y_train, epochs=(\d+)")
    runs = records("bn_generalization.jsonl", recipe="cosine", epochs=epochs)
    assert sorted(run["seed"] for run in runs) == [1, 2, 3]
    return runs


def claim_evaluate():
    runs = resnets_training()
    return (f"`fit` reports a training accuracy of "
            f"{span([r['fit_accuracy_last_epoch'] for r in runs], 3)} in its last epoch, while "
            f"`evaluate` scores the training images {span([r['train_as_is'] for r in runs], 2)} "
            f"and the test images {span([r['test_as_is'] for r in runs], 2)}")


def claim_reestimated():
    runs = resnets_training()
    return (f"(three seeds gave {span([r['test_reestimated'] for r in runs], 3)}), and a "
            f"training accuracy of {span([r['train_reestimated'] for r in runs], 3)} in "
            "inference mode")


# resnets: section 9 (benchmarks/transfer.py --seeds 0 1 2 --fractions 0.1 1.0)
def budget():
    """The notebook's budgets as benchmarks/transfer.py records them: "head+tune, scratch"."""
    head, tune = setting("resnets", "fine_tune", r"head_epochs=(\d+), tune_epochs=(\d+)")
    scratch, = setting("resnets", "compare", r"def train_from_scratch\(X, Y, epochs=(\d+)\)")
    return f"{head}+{tune}, {scratch}"


def transfer(fraction, key):
    runs = records("transfer.jsonl", fraction=fraction, budget=budget())
    assert sorted(run["seed"] for run in runs) == [0, 1, 2]
    return [run[key] for run in runs]


def chosen():
    """(method, held-out accuracy) per seed: the higher validation score with all photos (a tie
    goes to fine-tuning, the first candidate, as the notebook's max() does)."""
    runs = records("transfer.jsonl", fraction=1.0, budget=budget())
    return [("from scratch", run["scratch_held_out"])
            if run["scratch_val"] > run["fine_tuned_val"]
            else ("fine-tuning", run["fine_tuned_held_out"]) for run in runs]


def claim_transfer_validation():
    return (f"fine-tuned {span(transfer(1.0, 'fine_tuned_val'), 2)} and from scratch "
            f"{span(transfer(1.0, 'scratch_val'), 2)}; with 10% (53 photos, `compare_at(0.1)`), "
            f"fine-tuned {span(transfer(0.1, 'fine_tuned_val'), 2)} and from scratch "
            f"{span(transfer(0.1, 'scratch_val'), 2)}")


def claim_transfer_deeper():
    few = transfer(0.1, "fine_tuned_conv4_conv5_val")
    assert min(few) <= 0.25, "it learns with 53 photos: reword"
    return [f"reached {span(transfer(1.0, 'fine_tuned_conv4_conv5_val'), 2)} on the validation "
            "split with all 528 photos",
            f"With 53 photos it learns little ({span(few, 2)}, where chance is 0.25)"]


def seeds_where(better, worse, fraction=1.0):
    """'on every seed', 'on two seeds of three', ...: where `better` scored above `worse`."""
    runs = records("transfer.jsonl", fraction=fraction, budget=budget())
    ahead = sum(run[better] > run[worse] for run in runs)
    if ahead == len(runs):
        return "on every seed"
    return f"on {words(ahead) if ahead else 'none'} of the {words(len(runs))} seeds"


def claim_transfer_compare():
    return (f"training from scratch ({span(transfer(1.0, 'scratch_val'), 2)}) is ahead of "
            f"fine-tuning `conv5_` ({span(transfer(1.0, 'fine_tuned_val'), 2)}) "
            + seeds_where("scratch_val", "fine_tuned_val"))


def claim_deeper_against_scratch():
    return ("ahead of training from scratch "
            + seeds_where("fine_tuned_conv4_conv5_val", "scratch_val"))


def claim_head_at_chance():
    assert set(transfer(0.1, "head_only_val")) == {0.25}, "the head alone left chance level"
    return "The new head alone, on frozen features, stays at chance (0.25) with 53 photos"


def claim_held_out():
    methods = {method for method, _ in chosen()}
    assert len(methods) == 1, "the seeds chose different methods: say so in the text"
    return (f"three seeds chose {methods.pop()} and gave "
            f"{span([accuracy for _, accuracy in chosen()], 3)}")


def claim_remember_transfer():
    return (f"lost to training it from scratch on the validation split "
            f"({span(transfer(1.0, 'fine_tuned_val'), 2)} against "
            f"{span(transfer(1.0, 'scratch_val'), 2)})")


def shipped():
    """benchmarks/pretrained_shifts.py's record of the course's resnet50.h5."""
    return records("pretrained_shifts.jsonl", sha256=SHIPPED)[-1]


def claim_pretrained_resnets():
    record = shipped()
    return (f"the course's `resnet50.h5` gives {record['test']:.3f}, "
            f"{round(record['test'] * 120)} of the 120 test photos")


# the notebooks' running times (benchmarks/notebook_run.py)
def run_time(assignment, avx512):
    runs = [run for run in records("notebook_runs.jsonl", assignment=assignment)
            if run["machine"]["avx512"] == avx512]
    assert runs, f"no notebook_run record of {assignment} on a CPU with avx512={avx512}"
    assert runs[-1]["machine"]["cores"] == 2, "the text says a 2-core CPU"
    return runs[-1]


def minutes(seconds):
    return f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def claim_resnets_times():
    slow, fast = run_time("resnets", False), run_time("resnets", True)
    cells = slow["cell_seconds"]
    return (f"measured {cells['train']:.0f} s for the 4 epochs on a 2-core AVX2 CPU such as most "
            f"laptops have, with the fast kernels that the first cell turned on, and "
            f"{fast['cell_seconds']['train']:.0f} s on a 2-core CPU with AVX-512. The whole "
            f"notebook took {minutes(slow['notebook_wall_seconds'])} on the AVX2 CPU and "
            f"{minutes(fast['notebook_wall_seconds'])} on the AVX-512 one")


def claim_fraction_time():
    runs = records("transfer.jsonl", fraction=0.1, budget=budget())
    seconds = [run["fine_tune_seconds"] + run["scratch_seconds"] for run in runs]
    return f"about {span(seconds, 0)} s more on a 2-core CPU with AVX-512"


def claim_cell_time(cell):
    def claim():
        slow = run_time("resnets", False)["cell_seconds"][cell]
        fast = run_time("resnets", True)["cell_seconds"][cell]
        return f"measured {slow:.0f} s on a 2-core AVX2 CPU and {fast:.0f} s on one with AVX-512"
    return claim


def claim_degradation_time():
    seconds = run_time("degradation", True)["cell_seconds"]["train"]
    return f"measured {seconds:.0f} s for the four networks on a 2-core CPU with AVX-512"


def claim_intro_time(assignment):
    def claim():
        fast = run_time(assignment, True)
        return (f"a Run All computes for {minutes(fast['notebook_wall_seconds'])} on a 2-core "
                "CPU with AVX-512")
    return claim


# degradation (benchmarks/degradation.py)
def degradation_budget():
    epochs, = setting("degradation", "train", r"EPOCHS = (\d+)")
    size, = setting("degradation", "load-data", r"size=(\d+)")
    return epochs, size


def degradation_runs():
    epochs, size = degradation_budget()
    runs = records("degradation.jsonl", epochs=epochs, size=size)
    assert len(runs) >= 3
    return runs


def final(runs, name):
    return [run["final_loss"][name] for run in runs]


def ratio(runs, top, bottom):
    return [run["final_loss"][top] / run["final_loss"][bottom] for run in runs]


def claim_degradation_training():
    runs = degradation_runs()
    seeds = sorted(run["seed"] for run in runs)
    assert len(set(seeds)) == len(seeds), "one record per seed: a rerun replaces its lines"
    return [f"{words(len(runs))} seeds gave {span(ratio(runs, 'plain56', 'plain20'), 0)}",
            f"its loss ends at {span(final(runs, 'plain56'), 2)}",
            f"the {words(len(runs))} seeds gave {span(ratio(runs, 'residual56', 'plain56'), 2)}",
            f"{span(ratio(runs, 'residual56', 'plain20'), 2)} times plain20's loss",
            "with a training accuracy of "
            f"{span([run['accuracy']['residual56'][-1] for run in runs], 2)}",
            f"residual56 ends {span(ratio(runs, 'residual56', 'residual20'), 1)} times "
            f"residual20's loss, and trails it {trailing(runs)}"]


def trailing(runs):
    """Where residual56's epoch loss is above residual20's, in words."""
    behind = [sum(deep > shallow for deep, shallow in zip(run["loss"]["residual56"],
                                                           run["loss"]["residual20"]))
              for run in runs]
    epochs = len(runs[0]["loss"]["residual56"])
    if all(count == epochs for count in behind):
        return "at every epoch on every seed"
    assert min(behind) >= epochs - 2, "reword: residual56 no longer trails nearly everywhere"
    return "at nearly every epoch on every seed"


def claim_degradation_longer():
    """The 25-epoch runs, seed 0, one per machine: the degradation stays in both (plain56 leaves
    chance level, far above plain20); whether residual56 ends below residual20 depends on the
    run."""
    runs = records("degradation.jsonl", epochs=25, size=degradation_budget()[1], seed=0)
    by = {run["machine"]["avx512"]: run["final_loss"] for run in runs}
    assert len(runs) == 2 and set(by) == {True, False}, "the text speaks of two machines"
    slow, fast = by[False], by[True]
    assert max(slow["plain56"], fast["plain56"]) < math.log(6), "plain56 left chance level"
    assert (slow["residual56"] < slow["residual20"]) and not (
        fast["residual56"] < fast["residual20"]), "reword: residual56 against residual20"
    return [f"On the AVX2 machine plain56 leaves chance level but still ends "
            f"{slow['plain56'] / slow['plain20']:.0f} times plain20's loss "
            f"({slow['plain56']:.2f} against {slow['plain20']:.4f}), and residual56 ends below "
            f"residual20 ({slow['residual56']:.4f} against {slow['residual20']:.4f})",
            f"On the AVX-512 machine plain56 ends at {fast['plain56']:.2f}, "
            f"{fast['plain56'] / fast['plain20']:.0f} times plain20's {fast['plain20']:.2f}",
            f"residual56 ends above residual20 ({fast['residual56']:.4f} against "
            f"{fast['residual20']:.4f})"]


def claim_degradation_gradients():
    runs = records("degradation_gradients.jsonl", size=degradation_budget()[1])
    assert sorted(run["seed"] for run in runs) == [0, 1, 2]
    stage1 = {name: [run["norms"][name]["stage1"] for run in runs]
              for name in ("plain20", "plain56", "residual20", "residual56")}
    residual = [deep / shallow for deep, shallow in zip(stage1["residual56"],
                                                         stage1["residual20"])]
    return [f"(three seeds: plain56's stage-1 norm {span(stage1['plain56'], 0)}, plain20's "
            f"{span(stage1['plain20'], 1)}, the ratio seed by seed "
            f"{span([run['first_stage_ratio'] for run in runs], 0)}",
            f"the residual 56-layer network's stay within a few times the 20-layer one's "
            f"({span(residual, 1)} times)"]


def claim_block_changes():
    runs = [run for run in degradation_runs() if run.get("changes_mode") == "training"]
    assert len(runs) >= 3, "no block changes measured in training mode"

    def means(name):
        return [statistics.mean(run["changes"][name].values()) for run in runs]

    def lowest(name):
        return [min(run["changes"][name].values()) for run in runs]

    def first(name):
        return [list(run["changes"][name].values())[0] for run in runs]

    firsts = [value for name in ("plain20", "plain56", "residual20", "residual56")
              for value in first(name)]
    plain_lowest = min(lowest("plain20") + lowest("plain56"))
    return [f"(a mean of {span(means('plain20') + means('plain56'), 2)} per block, the lowest "
            f"{plain_lowest:.2f})",
            f"a mean of {span(means('residual20'), 2)} per block in residual20, "
            f"{span(means('residual56'), 2)} in residual56, whose lowest are "
            f"{span(lowest('residual56'), 2)}",
            f"The first block of every network changes its input by {span(firsts, 1)}"]


# beyond
def beyond_measurements():
    runs = records("beyond_measurements.jsonl")
    assert sorted(run["seed"] for run in runs) == [0, 1, 2]
    return runs


def claim_block_gradients():
    runs = beyond_measurements()

    def norms(net, block):
        return [run["gradients"][net]["norms"][block] for run in runs]

    def ratios(net):
        return [run["gradients"][net]["first_over_last"] for run in runs]

    return (f"V1's is about {statistics.mean(norms('v1', 'conv2_block1_out')):.0f} at its first "
            f"block and {span(norms('v1', 'conv5_block3_out'), 2)} at its last, about 100 times "
            f"more; V2's about {statistics.mean(norms('v2', 'conv2_block1_out')):.0f} and "
            f"{span(norms('v2', 'conv5_block3_out'), 2)}, about 50 times (your instructor's runs "
            f"with seeds 0, 1 and 2, `benchmarks/beyond_measurements.py`: "
            f"{span(ratios('v1'), 0)} times, and {span(ratios('v2'), 0)})")


def claim_warmup():
    runs = beyond_measurements()

    def values(peak, schedule, key):
        return [run["first_steps"][peak][schedule][key] for run in runs]

    low, high = span(values("0.01", "none", "after_first_step"), 1).split(" to ")
    return [f"throws the loss from about ln 6 to between {low} and {high} (the loss at step 1), "
            "and it "
            f"is still {span(values('0.01', 'none', 'last_five'), 1)} over the last five steps",
            f"it never goes above {max(values('0.01', 'warmup', 'highest')):.1f} and ends at "
            f"{span(values('0.01', 'warmup', 'last_five'), 1)}",
            f"no jump there ({span(values('0.001', 'none', 'after_first_step'), 1)} at step 1)",
            f"(after 20 steps, {span(values('0.001', 'none', 'last_five'), 2)} without it against "
            f"{span(values('0.001', 'warmup', 'last_five'), 2)})"]


def claim_beyond_cell_seconds(cell):
    def claim():
        seconds = run_time("beyond", True)["cell_seconds"][cell]
        return f"It takes {seconds:.0f} seconds on a 2-core CPU with AVX-512"
    return claim


def claim_recipe_minutes():
    minutes = [run["fit_seconds"] / 60 for run in records("beyond_validation.jsonl")]
    return f"One training run took {span(minutes, 0, outward=True)} minutes on 2 cores"


def claim_per_sign():
    record = shipped()
    assert record["mistakes"], "the course's build misses no photo: reword the text"
    perfect = [sign for sign in range(6)
               if record["precision"][sign] == 1 and record["recall"][sign] == 1]

    def listed(signs):
        signs = [str(sign) for sign in signs]
        return signs[0] if len(signs) == 1 else f"{', '.join(signs[:-1])} and {signs[-1]}"

    missed = {sign: value for sign, value in enumerate(record["recall"]) if value < 1}
    taken = {sign: value for sign, value in enumerate(record["precision"]) if value < 1}
    assert len(set(f"{value:.2f}" for value in taken.values())) == 1, "reword: precisions differ"
    mistakes = ", ".join(f"a {m['sign']} taken for a {m['predicted']}"
                         for m in record["mistakes"][:-1])
    last = record["mistakes"][-1]
    perfect = (f"sign {listed(perfect)} alone" if len(perfect) == 1
               else f"signs {listed(perfect)}")
    return [f"The course's `resnet50.h5` scores {record['test']:.3f}, "
            f"{round(record['test'] * 120)} of the 120 photos, and is perfect on {perfect}",
            f"Its {words(len(record['mistakes']))} mistakes, {mistakes} and a {last['sign']} taken"
            f" for a {last['predicted']}",
            "(" + ", ".join(f"{sign}: {value:.2f}" for sign, value in missed.items()) + ")",
            f"({listed(taken)}: {next(iter(taken.values())):.2f} each)"]


def claim_shifted():
    record = shipped()
    other = records("pretrained_shifts.jsonl", augmentation="geometric")
    other = [row for row in other if row["sha256"] != SHIPPED][-1]
    shifted = record["shifted"]
    return [f"({shifted['scale']:.2f} and {shifted['rotation']:.2f}, against "
            f"{record['test']:.3f} on the photos as taken)",
            f"less under blur ({shifted['blur']:.2f})",
            f"{shifted['brightness']:.2f} under brightness, {shifted['contrast']:.2f} under "
            f"contrast, {shifted['colour']:.2f} under colour, a mean of "
            f"{record['shifted_mean']:.2f} over the six shifts",
            f"another gave {other['shifted']['brightness']:.2f} under brightness and a mean of "
            f"{other['shifted_mean']:.2f}"]


def claim_builds_table():
    """beyond section 9's table of three builds: the two made side by side on 2026-11-29 and
    the course's own."""
    rows = []
    for sha in ("98c5063f7ce9", "2eab34b09b37", SHIPPED[:12]):
        row = [r for r in records("pretrained_shifts.jsonl") if r["sha256"].startswith(sha)][-1]
        rows.append(f"| {row['validation']:.3f} | {row['test']:.3f} | {row['shifted_mean']:.2f} | "
                    f"{row['shifted']['brightness']:.2f} | {row['shifted']['colour']:.2f} |")
    return rows


def claim_grad_cam():
    record = records("grad_cam_target.jsonl")[-1]
    layers = record["layers"]
    apart = [layer["photos_apart_by_over_half"] for layer in layers.values()]
    return [f"a median probability of {record['confidence']['median']:.4f} over the 120 test "
            "photos",
            f"somewhere on {min(apart)} to {max(apart)} of them",
            f"{words(layers['conv5_block3_out']['probability_blank'])} of conv5's probability "
            "maps are blank"]


def claim_grad_cam_mistakes():
    record = records("grad_cam_target.jsonl")[-1]
    assert [m["photo"] for m in record["mistakes"]] == [m["photo"] for m in shipped()["mistakes"]]
    probabilities = [m["probability"] for m in record["mistakes"]]
    return (f"It gets {len(probabilities)} of the 120 test photos wrong, each with its highest "
            f"probability between {min(probabilities):.2f} and {max(probabilities):.2f}, where "
            f"the median photo gets {record['confidence']['median']:.4f}")


CLAIMS = [
    ("resnets", "evaluate_text", claim_evaluate),
    ("resnets", "my_image_text", claim_reestimated),
    ("resnets", "held_out_text", claim_transfer_validation),
    ("resnets", "held_out_text", claim_transfer_deeper),
    ("resnets", "held_out_text", claim_transfer_compare),
    ("resnets", "held_out_text", claim_deeper_against_scratch),
    ("resnets", "held_out_text", claim_head_at_chance),
    ("resnets", "compare_discussion", claim_held_out),
    ("resnets", "remember", claim_remember_transfer),
    ("resnets", "transfer_text", claim_pretrained_resnets),
    ("resnets", "train_text", claim_resnets_times),
    ("resnets", "fine_tune_text", claim_cell_time("fine_tune")),
    ("resnets", "compare_text", claim_cell_time("compare")),
    ("resnets", "compare_text", claim_fraction_time),
    ("resnets", "intro", claim_intro_time("resnets")),
    ("degradation", "intro", claim_intro_time("degradation")),
    ("degradation", "training-text", claim_degradation_time),
    ("degradation", "gradients-result", claim_degradation_gradients),
    ("degradation", "training-result", claim_degradation_training),
    ("degradation", "training-result", claim_degradation_longer),
    ("degradation", "block-changes-expected", claim_block_changes),
    ("beyond", "intro", claim_intro_time("beyond")),
    ("beyond", "v1_v2_gradients_expected", claim_block_gradients),
    ("beyond", "v1_v2_gradients_text", claim_beyond_cell_seconds("v1_v2_gradients")),
    ("beyond", "warmup_run_text", claim_beyond_cell_seconds("warmup_run")),
    ("beyond", "recipes_measured", claim_recipe_minutes),
    ("beyond", "warmup_run_expected", claim_warmup),
    ("beyond", "pretrained_expected", claim_per_sign),
    ("beyond", "robustness_after", claim_shifted),
    ("beyond", "recipes_measured", claim_builds_table),
    ("beyond", "grad_cam_text", claim_grad_cam),
    ("beyond", "grad_cam_layers_text", claim_grad_cam_mistakes),
]


def _text(assignment, cell_id):
    assert cell_id in cells(assignment), f"{assignment}: no cell {cell_id!r}"
    return re.sub(r"\s+", " ", cells(assignment)[cell_id].source)


@pytest.mark.parametrize("assignment, cell_id, claim", CLAIMS,
                         ids=[f"{a}-{c}-{f.__name__}" for a, c, f in CLAIMS])
def test_the_notebook_states_what_its_log_measured(assignment, cell_id, claim):
    text = _text(assignment, cell_id)
    stated = claim()
    for sentence in [stated] if isinstance(stated, str) else stated:
        # the sentence as a whole: a number it ends on is not the start of a longer one or of a
        # range ("0.17" must not match "0.17 to 0.40")
        found = re.search(re.escape(sentence) + r"(?!\d|\.\d|\s*to\s+\d)", text)
        assert found, (f"{assignment} [{cell_id}] does not say {sentence!r}, which its log "
                       "measured: rerun the text from the log")


def test_the_summary_text_quotes_what_a_correct_network_prints():
    summary = cells("resnets")["ResNet50_summary"]
    printed = "".join(o.get("text", "") for o in summary.outputs).strip()
    assert "nbval-check-output" in summary.metadata.get("tags", [])
    assert f"`{printed}`" in _text("resnets", "ResNet50_summary_expected")


def test_the_override_text_quotes_what_its_cell_prints():
    """resnets' measured cell on training=False and trainable=False prints what its text says
    (the stored output nbval compares with)."""
    override = cells("resnets")["bn_override"]
    printed = "".join(o.get("text", "") for o in override.outputs)
    assert "nbval-check-output" in override.metadata.get("tags", [])
    counts = re.findall(r"(\d+ of \d+) moving statistics", printed)
    assert len(counts) == 2, printed
    text = _text("resnets", "bn_override_text")
    assert f"prints `{counts[0]}` for the guide's call and `{counts[1]}` with the layers frozen" \
        in text
