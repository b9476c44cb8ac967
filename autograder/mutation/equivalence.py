"""Is a surviving mutant equivalent to the solution?

A mutant is *equivalent* when every graded function its edit can reach gives the same results
as the solution's on edge-of-domain inputs (:mod:`autograder.mutation.domains`): the same
types, shapes and dtypes, values equal up to a few ulps, the same NaN and inf positions, the
same arguments after the call (nothing changed in place that the solution leaves alone), the
same floating-point warnings, the same exceptions. A mutant whose reachable functions are not
all probed cannot be shown equivalent and counts as non-equivalent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ULPS = 4  # "the same value": at most this many units in the last place apart


@dataclass(frozen=True)
class Probe:
    """One edge-of-domain use of some graded functions. ``run(namespace)`` calls them through
    :func:`invoke` and returns what they gave (plain data, compared by :func:`same`)."""

    functions: frozenset[str]
    label: str
    run: Callable[[dict], Any]


class Raised:
    """What a call gave when it raised: compared by exception type only."""

    def __init__(self, exc: BaseException):
        self.kind = type(exc).__name__

    def __eq__(self, other):
        return isinstance(other, Raised) and other.kind == self.kind

    def __hash__(self):
        return hash(self.kind)

    def __repr__(self):
        return f"raised {self.kind}"


def invoke(namespace: dict, name: str, *args, **kwargs) -> dict:
    """Call ``namespace[name]`` (or a bound method passed as ``name``) on deep copies of the
    arguments; return its value, the arguments afterwards and the floating-point warnings."""
    fn = namespace[name] if isinstance(name, str) else name
    args = copy.deepcopy(args)
    kwargs = copy.deepcopy(kwargs)
    events: list[str] = []
    old = np.seterrcall(lambda kind, flag: events.append(kind))
    try:
        with np.errstate(all="call", under="ignore"):
            value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001  (raising is a behaviour to compare)
        value = Raised(exc)
    finally:
        np.seterrcall(old)
    return {
        "value": value,
        "args": args,
        "kwargs": kwargs,
        "warnings": sorted(set(events)),
        "aliases": _aliases(value, args),
    }


def _arrays(value, path=()):
    """``(path, array)`` for every array inside tuples, lists and dicts of ``value``."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _arrays(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(item, (*path, key))


def _aliases(value, args) -> list:
    """Which returned arrays share memory with which array arguments (a returned view of
    an input is behaviour: the caller's later writes reach the input)."""
    inputs = [(i, a) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    return [
        (path, i)
        for path, out in _arrays(value)
        for i, a in inputs
        if out.size and a.size and np.may_share_memory(out, a)
    ]


def same(a, b) -> bool:
    """Equal as results: recursively, arrays to a few ulps with the same dtype and shape."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return _close(a, b)
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float):  # np.float64 is a float too
        return _close(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    if type(a) is not type(b):
        return False
    if isinstance(a, np.floating):
        return _close(np.asarray(a), np.asarray(b))
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(a[~finite & ~np.isnan(a)], b[~finite & ~np.isnan(b)]):
        return False  # the same infinities (and the same finiteness pattern)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    x, y = a[finite], b[finite]
    scale = np.spacing(np.maximum(np.abs(x), np.abs(y)))
    return bool(np.all(np.abs(x - y) <= ULPS * scale))


def expected_results(solution: dict, probes: list[Probe]) -> list:
    """What the solution gives on each probe (computed once, compared against every mutant)."""
    return [run_probe(probe, solution) for probe in probes]


def equivalent(
    mutant: dict,
    probes: list[Probe],
    expected: list,
    reachable: set[str],
    graded: set[str],
) -> tuple[bool, str]:
    """``(True, "")`` when the mutant's namespace matches the solution's results
    (``expected``, one per probe) on every probe of a function it can reach; else
    ``(False, why)``. ``graded`` are the names some test calls: each of those that is
    reachable must be probed for the answer to be ``True``."""
    needed = (reachable & graded) or reachable
    probed = set().union(*(p.functions for p in probes))
    unprobed = needed - probed
    if unprobed:
        return False, f"no edge-of-domain probe for {', '.join(sorted(unprobed))}"
    for probe, want in zip(probes, expected, strict=True):
        if probe.functions & reachable and not same(want, run_probe(probe, mutant)):
            return False, f"differs on {probe.label}"
    return True, ""


def run_probe(probe: Probe, namespace: dict):
    """The probe's result, or :class:`Raised` when a step outside :func:`invoke` failed."""
    try:
        return probe.run(namespace)
    except Exception as exc:  # noqa: BLE001  (e.g. unpacking what a mutant returned)
        return Raised(exc)
