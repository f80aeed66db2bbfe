"""What each cataloged mistake leaves when it is graded (its signature), and which mistake a failed
cell's outputs show.

A mistake's signature is what the hidden checks computed on it: its outputs under the grader's
fixed weights and inputs, or the error that stopped them, with the first error line of the
function's public test. `python -m course.audit --signatures` makes them from the assignment's
catalog (hidden/ASSIGNMENT/catalog.py) in one process and keeps them beside references.npz as
signatures.npz; `make references` runs it after the references.

While grading, ExecuteWithHiddenTests asks `likely` which mistake a failed cell shows: the one
whose outputs all match the cell's within the judge's own tolerance (course/hidden/judge.py), or
whose error is the same error, the public test's message breaking a tie. Where no mistake matches,
the answer is None (an unknown mistake), never the nearest one.
"""
import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from course.hidden.judge import compare

FILE = "signatures.npz"
INDEX = "index.json"  # the key of the entries' JSON text in FILE (np.savez keeps arrays only)


class SignaturesError(RuntimeError):
    pass


def normalized(text):
    """An error line without what changes from one run to the next: Keras's counters in
    automatic names ("conv2d_17"), object addresses."""
    if text is None:
        return None
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", str(text))
    return re.sub(r"(?<=[A-Za-z])_\d+\b", "_?", text).strip()[:300]


@dataclasses.dataclass(frozen=True)
class Signature:
    """One mistake's signature: `outputs` ({key: array}, as references.npz has them) when the
    hidden checks ran, else `error` (their first error line); `public`: the public test's first
    error line (None if it passed)."""
    name: str
    function: str
    why: str
    outputs: dict
    error: str | None = None
    public: str | None = None

    def shows(self, function, published):
        """Whether `published` (what the hidden checks of `function` gave a submission: {key:
        array}, or a message saying why there are none) is this mistake's signature."""
        if function != self.function:
            return False
        if isinstance(published, str) or self.error is not None:
            return (isinstance(published, str) and self.error is not None
                    and normalized(published) == normalized(self.error))
        try:
            compare(function, *_nan_as_zero(published, self.outputs))
        except AssertionError:
            return False
        return True


def _nan_as_zero(outputs, expected):
    """Both {key: array} with 0 where both hold NaN: a mistake that gives NaN gives it again
    (the judge's comparison, rightly, never matches NaN)."""
    outputs, expected = dict(outputs), dict(expected)
    for key, wanted in expected.items():
        found = outputs.get(key)
        if (isinstance(found, np.ndarray) and found.shape == wanted.shape
                and found.dtype.kind == "f" and wanted.dtype.kind == "f"):
            both = np.isnan(found) & np.isnan(wanted)
            if both.any():
                outputs[key] = np.where(both, 0, found)
                expected[key] = np.where(both, 0, wanted)
    return outputs, expected


class Signatures:
    """An assignment's signatures, in catalog order."""

    def __init__(self, entries):
        self.entries = list(entries)

    def for_function(self, function):
        return [entry for entry in self.entries if entry.function == function]

    def named(self, name):
        return next((entry for entry in self.entries if entry.name == name), None)

    def likely(self, function, published, public=None):
        """The Signature `published` shows (see Signature.shows), the public test's error line
        `public` choosing between mistakes that leave the same outputs; None if none does."""
        if published is None:
            return None
        found = [entry for entry in self.for_function(function) if entry.shows(function, published)]
        same = [entry for entry in found if normalized(entry.public) == normalized(public)]
        return (same or found or [None])[0]

    def without(self, name):
        """These signatures less the mistake `name` (to check that an unknown mistake is called
        unknown)."""
        return Signatures(entry for entry in self.entries if entry.name != name)

    # --- the file ------------------------------------------------------------------------
    def write(self, folder, references):
        """folder/signatures.npz, written whole or not at all; an output that matches
        `references` (the solution's, references.npz) is kept as a mention of it, not a copy."""
        index, arrays = [], {}
        for e in self.entries:
            same = sorted(key for key, value in e.outputs.items()
                          if _same(value, references.get(key)))
            index.append({"name": e.name, "function": e.function, "why": e.why, "error": e.error,
                          "public": e.public, "keys": sorted(e.outputs), "as_reference": same})
            arrays.update({f"{e.name}/{key}": value for key, value in e.outputs.items()
                           if key not in same})
        target = Path(folder) / FILE
        partial = target.with_name(target.name + ".partial.npz")
        np.savez_compressed(partial, **{INDEX: np.array(json.dumps(index))}, **arrays)
        partial.replace(target)

    @classmethod
    def of(cls, tests):
        """The signatures beside HiddenTests `tests`; none (an empty set) where there are
        none."""
        return cls.read(tests.folder, tests.references) or cls([])

    @classmethod
    def read(cls, folder, references):
        """The signatures in `folder`, or None if it has none; one error line if unreadable."""
        path = Path(folder) / FILE
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                index = json.loads(str(stored[INDEX]))
                entries = [Signature(e["name"], e["function"], e["why"],
                                     {key: references[key] if key in e["as_reference"]
                                      else stored[f"{e['name']}/{key}"] for key in e["keys"]},
                                     e["error"], e["public"]) for e in index]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SignaturesError(f"{path}: cannot read the mistakes' signatures "
                                  f"({type(error).__name__}: {error}). Fix: run `make "
                                  "references`.") from None
        return cls(entries)


def _same(value, reference):
    """Whether an output is the solution's own, exactly."""
    return (reference is not None and value.dtype == reference.dtype
            and value.shape == reference.shape and np.array_equal(value, reference))
