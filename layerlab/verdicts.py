"""What a check says, in one place.

The visible checks in the notebooks and the hidden tests behind the grade use these sentences
and this comparison, so a student reads the same words in both. In a notebook::

    with checks("sigmoid_forward") as check:
        out, _ = sigmoid_forward(np.array([-2.0, 0.0, 3.0]))
        check.close("out", out, [0.11920292202211755, 0.5, 0.9525741268224334])
        check(check_layer(sigmoid_forward, sigmoid_backward, x))

prints one line per check and, when any failed, raises ``CheckFailed`` at the end of the
block (an exception inside the block is raised as it is, after the lines so far).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from layerlab.gradcheck import Comparison, LayerCheck, compare

__all__ = [
    "TWICE",
    "Bug",
    "CheckFailed",
    "Checks",
    "checks",
    "float64_problem",
    "in_place_message",
    "nondeterministic_message",
    "unstable_message",
    "verdict",
]

# ----------------------------------------------------------------------------- the sentences

TWICE = (
    "{name} gave a different answer when called twice with the same cache and dout: "
    "backward must not draw random numbers or change its cache (or anything else) in place."
)


def in_place_message(name: str, argument: str) -> str:
    """``name`` changed ``argument`` (e.g. "its argument #1", "x") in place."""
    return (
        f"{name} modified {argument} in place (an input array); inputs must stay unchanged: "
        "compute into a new array instead."
    )


def unstable_message(name: str, events: Sequence[str], what: str = "large inputs") -> str:
    return (
        f"{name} produced floating-point warnings ({', '.join(events)}) on {what}: rewrite it "
        "so that no intermediate overflows or takes log(0) (shift by the maximum, or branch on "
        "the sign)."
    )


def nondeterministic_message(name: str, what: str = "the same seed") -> str:
    return (
        f"{name} gave a different answer for {what}: draw random numbers only from the "
        "generator made from the given seed, and change no state between calls."
    )


def float64_problem(label: str, actual, expected) -> str | None:
    """Why ``actual`` breaks the float64 contract, or None.

    Arrays must have dtype float64; a single number may also be a Python float (or int).
    """
    if isinstance(actual, np.ndarray):
        if actual.dtype == np.float64:
            return None
        return (
            f"{label}: returned an array of dtype {actual.dtype}; it must be float64 (do not cast "
            "to float32 or build it from integers: use float64 throughout)."
        )
    if isinstance(actual, np.generic):
        if isinstance(actual, np.float64):
            return None
        return f"{label}: returned a {type(actual).__name__}; it must be a float64 number."
    if isinstance(actual, bool):
        return f"{label}: returned a bool; expected a float64 value."
    if isinstance(actual, float | int) and np.ndim(expected) == 0:
        return None
    if isinstance(actual, list | tuple):
        return (
            f"{label}: returned a {type(actual).__name__}; return a float64 numpy array of shape "
            f"{np.shape(expected)}."
        )
    return None  # None, strings, objects: compare() explains those


# ----------------------------------------------------------------------------- one comparison


@dataclass(frozen=True)
class Bug:
    """A known wrong answer: its ``value`` (None when it does not apply to this input) and
    the sentence that tells the student what went wrong."""

    value: object
    message: str


def recognized(actual, bugs, rtol: float, atol: float = 0.0) -> str | None:
    """The message of the first ``Bug`` whose value ``actual`` matches, or None. ``bugs`` may
    be a callable returning the list (evaluated only here)."""
    for bug in bugs() if callable(bugs) else bugs:
        if bug is None or bug.value is None:
            continue
        if compare("", actual, bug.value, rtol=max(rtol, 1e-6), atol=atol).ok:
            return bug.message
    return None


def verdict(
    label: str,
    actual,
    expected,
    *,
    rtol: float,
    atol: float = 0.0,
    bugs: Sequence[Bug] | Callable[[], Sequence[Bug]] = (),
    factors: dict | None = None,
    numeric_reference: bool = False,
    dtype: bool = True,
) -> tuple[bool, str]:
    """``(ok, message)`` for ``actual`` against the float64 reference ``expected``: every
    entry within ``rtol``/``atol`` (``compare``), the exact shape, finite where the reference
    is, float64 (unless ``dtype=False``). When it fails and ``actual`` matches a ``Bug``, that
    bug's sentence is the hint."""
    labels = {"actual_label": "analytic", "expected_label": "numeric"} if numeric_reference else {}
    cmp = compare(label, actual, expected, rtol=rtol, atol=atol, factors=factors, **labels)
    ok, message = cmp.ok, cmp.message
    problem = float64_problem(label, actual, expected) if dtype else None
    if problem and ok:
        ok, message = False, problem
    elif problem:
        message = problem + " " + message.split(" Hint: ")[0]
    if not ok and bugs:
        hint = recognized(actual, bugs, rtol, atol)
        if hint:
            message = message.split(" Hint: ")[0] + " Hint: " + hint
    return ok, message


# ----------------------------------------------------------------------------- notebook checks


class CheckFailed(AssertionError):
    """A visible check found a difference; the message lists what failed."""


class Checks:
    """The checks of one notebook cell about one function (see the module docstring)."""

    def __init__(self, name: str):
        self.name = name
        self.results: list[tuple[bool, str]] = []

    def record(self, ok: bool, message: str) -> bool:
        ok = bool(ok)
        self.results.append((ok, message))
        print(("ok    " if ok else "FAIL  ") + message.replace("\n", "\n      "))
        return ok

    def __call__(self, result: Comparison | LayerCheck) -> bool:
        """Record the outcome of ``compare`` or ``check_layer``."""
        if not isinstance(result, Comparison | LayerCheck):
            raise TypeError("check(...) takes the result of compare or check_layer")
        return self.record(result.ok, str(result))

    def close(
        self,
        label: str,
        actual,
        expected,
        *,
        rtol: float = 1e-12,
        atol: float = 0.0,
        bugs: Sequence[Bug] = (),
        factors: dict | None = None,
        dtype: bool = True,
    ) -> bool:
        """``actual`` matches ``expected`` (float64, same shape, every entry within ``rtol``)."""
        ok, message = verdict(f"{self.name} {label}", actual, expected, rtol=rtol, atol=atol,
                              bugs=bugs, factors=factors, dtype=dtype)  # fmt: skip
        return self.record(ok, message)

    def equal(self, label: str, actual, expected) -> bool:
        """``actual == expected`` exactly (integers, shapes, labels, booleans)."""
        ok = _equal(actual, expected)
        shown = f"{self.name} {label}"
        wrong = f"{shown}: got {actual!r}, expected {expected!r}."
        return self.record(ok, f"{shown}: ok" if ok else wrong)

    def true(self, label: str, condition: bool, message: str) -> bool:
        """A property that must hold; ``message`` says what is wrong when it does not."""
        shown = f"{self.name} {label}"
        return self.record(bool(condition), f"{shown}: ok" if condition else message)

    def unchanged(self, argument: str, before, after) -> bool:
        """An input the function must not modify is still bit for bit what it was."""
        same = _equal(before, after)
        return self.true(f"{argument} unchanged", same, in_place_message(self.name, argument))

    def stable(
        self, fn: Callable, *args, what: str = "large inputs", label: str = "stability", **kwargs
    ):
        """Call ``fn``; a check (named ``label``) that no overflow, invalid or divide-by-zero
        warning occurred (underflow to 0 is fine). Returns ``fn``'s value."""
        events: list[str] = []
        with np.errstate(call=lambda kind, flag: events.append(kind), all="call", under="ignore"):
            value = fn(*args, **kwargs)
        events = sorted(set(events))
        self.true(label, not events, unstable_message(self.name, events, what))
        return value

    def deterministic(self, first, again, what: str = "the same seed") -> bool:
        return self.true("determinism", _equal(first, again),
                         nondeterministic_message(self.name, what))  # fmt: skip

    def __enter__(self) -> Checks:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            return  # the function raised: that is the cell's error
        failed = [m for ok, m in self.results if not ok]
        if failed:
            first = failed[0].splitlines()[0]
            raise CheckFailed(
                f"{len(failed)} of {len(self.results)} checks of {self.name} failed; the first: "
                f"{first}"
            )


def checks(name: str) -> Checks:
    """``with checks("relu_forward") as check: ...``: the visible checks of one function."""
    return Checks(name)


def _equal(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    try:
        x, y = np.asarray(a), np.asarray(b)
    except Exception:  # noqa: BLE001  (ragged values)
        return a == b
    if x.dtype == object or y.dtype == object:
        return bool(a == b)
    floats = x.dtype.kind in "fc" and y.dtype.kind in "fc"
    return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=floats))
