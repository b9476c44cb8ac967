"""The one vocabulary of the hidden suites (their sentences and comparison are
``layerlab.verdicts``, shared with the notebooks visible checks).

A hidden test talks to the student's code through ``t`` (a ``TestContext``) and records
sub-checks with these helpers only:

* ``expect(t, label, actual, expected, tol=..., bugs=[...])``: one comparison, one sub-check.
  The contract of a float result is part of it: float64 (a float32 array, or float32 rounding
  hidden inside a float64 array, fails), the exact shape, finite where the reference is.
  ``bugs`` lists known wrong answers (``Bug(value, message)``); recognizing one changes the
  MESSAGE only, never the score: the sub-check fails either way, once.
* Tolerances come from the computation (``Tol``): ``exact()`` for operations that round a few
  times at most (scalings, masks, one product), ``reduction(n)`` for sums and means of ``n``
  terms, ``smooth()`` for a few transcendental functions, ``numeric(...)`` for a reference that
  is a centred difference.
* ``layer_gradients``: forward, backward twice on one cache (``TWICE`` is the one wording when
  the two answers differ), every gradient against the numeric gradient of the float64 oracle
  (or an analytic reference).
* ``same`` is the one definition of "argument unchanged" (the worker's ``same_value``),
  ``no_fp_warnings`` the one of "no floating-point warnings", ``deterministic`` the one of
  "the same seed gives the same answer".

References come from float64 oracles that the suites write independently of the solutions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from autograder.suite import BadReturn, Call, Earlier, TestContext
from autograder.worker.main import same_value
from layerlab.gradcheck import away_from_kinks, numerical_gradient_array
from layerlab.verdicts import (
    TWICE,
    Bug,
    nondeterministic_message,
    unstable_message,
    verdict,
)

__all__ = [
    "TWICE",
    "Bug",
    "Tol",
    "away_from_kinks",
    "backward",
    "deterministic",
    "exact",
    "expect",
    "forward",
    "layer_gradients",
    "no_fp_warnings",
    "numeric",
    "pair",
    "reduction",
    "reference_vjp",
    "same",
    "smooth",
]

EPS = float(np.finfo(np.float64).eps)
H = 1e-5  # the step of every centred difference used as a reference

# ----------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class Tol:
    """How far a correct float64 answer may be from the reference, and why.

    ``rtol`` is compared with ``|a - e| / (|a| + |e|)`` (half the usual relative error);
    ``atol`` is noise of the reference itself (a centred difference) or of a cancellation.
    """

    rtol: float
    atol: float = 0.0
    why: str = ""


def exact(ulps: int = 4) -> Tol:
    """A result that rounds a few times at most (a mask, a scaling, one product): a few ulps.

    Float32 arithmetic anywhere inside (relative error about 6e-8) is far outside it.
    """
    return Tol(ulps * EPS, 0.0, f"exact up to {ulps} ulps")


def reduction(n: int, cond: float = 1.0, ulps: int = 4) -> Tol:
    """A sum or mean of ``n`` terms: rounding grows at most like ``n`` ulps times the sum's
    condition number ``cond`` (``sum|terms| / |sum|``; 1 for terms of one sign)."""
    n = max(int(n), 1)
    return Tol(ulps * EPS * n * max(float(cond), 1.0), 0.0, f"sum of {n} terms")


def smooth(ulps: int = 64, atol: float = 0.0) -> Tol:
    """A few transcendental functions (exp, log, tanh, erf) chained: each within a few ulps,
    their condition numbers bounded on the tested range; ``atol`` absorbs a cancellation
    such as ``1 + erf(x)`` for ``x << 0``, far below the effect of any real bug."""
    return Tol(ulps * EPS, atol, f"{ulps} ulps of transcendental functions")


def numeric(value_scale: float = 1.0, h: float = H) -> Tol:
    """A reference that is a centred difference: truncation error O(h^2) relative, round-off
    about ``eps * |f| / h`` absolute (``value_scale`` is ``|f|``, e.g. ``sum|out * dout|``)."""
    noise = 100 * EPS * max(abs(float(value_scale)), 1.0) / h
    return Tol(1e-6, noise, "centred-difference reference")


# ----------------------------------------------------------------------------- known bugs


_RECOGNIZE = [True]


@contextlib.contextmanager
def without_bug_recognition() -> Iterator[None]:
    """Within this block ``expect`` ignores every ``bugs`` list (used to prove that
    recognizing a bug never changes a score)."""
    _RECOGNIZE.append(False)
    try:
        yield
    finally:
        _RECOGNIZE.pop()


# ----------------------------------------------------------------------------- the comparison


def expect(
    t: TestContext,
    label: str,
    actual,
    expected,
    *,
    tol: Tol | float,
    bugs: Sequence[Bug] | Callable[[], Sequence[Bug]] = (),
    factors: dict | None = None,
    numeric_reference: bool = False,
    dtype: bool = True,
    weight: float = 1.0,
) -> bool:
    """One sub-check: ``actual`` equals the float64 reference ``expected`` within ``tol``.

    Fails (one sub-check, whatever the cause) on a dtype other than float64 (unless
    ``dtype=False``), a shape other than the reference's, NaN or inf, or any entry off. When it
    fails and ``actual`` matches a ``Bug``'s value (``bugs`` may be a callable, evaluated only
    then), that bug's message replaces the generic diagnosis. Returns whether it passed.
    """
    if not isinstance(tol, Tol):
        tol = Tol(float(tol))
    ok, message = verdict(label, actual, expected, rtol=tol.rtol, atol=tol.atol,
                          bugs=bugs if _RECOGNIZE[-1] else (), factors=factors,
                          numeric_reference=numeric_reference, dtype=dtype)  # fmt: skip
    return t.check(label, ok, message, weight)


# ----------------------------------------------------------------------------- contracts


def _as_compared(v):
    if isinstance(v, list | tuple | float | int | np.generic):
        try:
            arr = np.asarray(v)
        except Exception:  # noqa: BLE001  (ragged or odd values from student code)
            return v
        return v if arr.dtype == object else arr
    return v


def same(a, b) -> bool:
    """The one definition of "unchanged": bit for bit (NaN equal), same shape, dicts key by key.

    It is the worker's ``same_value`` (the sandbox decides "modified in place" with it); lists,
    tuples and numbers are compared as the arrays they make.
    """
    return bool(same_value(_as_compared(a), _as_compared(b)))


def no_fp_warnings(
    t: TestContext, name: str, what: str = "large inputs", events: list[str] | None = None
) -> bool:
    """One sub-check: the last call (or the call of a batch whose ``fp_events`` are given)
    raised no overflow, invalid or divide-by-zero warning.

    Underflow is not a warning here: exp(-1e4) == 0 is the right answer.
    """
    events = [e for e in (t.fp_events if events is None else events) if e != "underflow"]
    return t.check(
        f"{name} stability",
        not events,
        unstable_message(name, events, what),
    )


def deterministic(t: TestContext, name: str, first, again, what: str = "the same seed") -> bool:
    """One sub-check: two answers that must be identical (same seed, same inputs) are."""
    return t.check(
        f"{name} determinism",
        same(first, again),
        nondeterministic_message(name, what),
    )


def pair(t: TestContext, name: str, value) -> tuple:
    """``value`` as the ``(out, cache)`` pair every forward returns."""
    return t.tuple_of(name, value, 2)


# ----------------------------------------------------------------------------- layers


def reference_vjp(oracle: Callable, args: Sequence, i: int, dout: np.ndarray, kwargs=None):
    """Centred-difference vector-Jacobian product of ``oracle`` w.r.t. argument ``i``."""
    kwargs = dict(kwargs or {})
    base = [np.array(a, dtype=np.float64) if _is_float(a) else a for a in args]
    scalar = not isinstance(base[i], np.ndarray)
    x = np.array(base[i], dtype=np.float64)

    def f(v):
        call_args = list(base)
        call_args[i] = float(v) if scalar else v
        return np.asarray(oracle(*call_args, **kwargs), dtype=np.float64)

    return numerical_gradient_array(f, x, dout, h=H)


def complex_step_vjp(oracle, args, i: int, dout, h: float = 1e-30) -> np.ndarray:
    """``sum(d oracle(*args) / d args[i] * dout)`` for every entry of ``args[i]``, exact to
    round-off (no subtraction, so no cancellation); ``oracle`` must be complex-analytic."""
    base = list(args)
    x = np.asarray(base[i], dtype=np.complex128)
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += 1j * h
        call = list(base)
        call[i] = xp
        grad[idx] = np.sum(np.imag(oracle(*call)) * dout) / h
    return grad


def _is_float(a) -> bool:
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)


def gradients(t: TestContext, name: str, value, names: Sequence[str]) -> tuple:
    """A backward's return value as one gradient per name (a tuple when several)."""
    if len(names) > 1:
        return t.tuple_of(name, value, len(names))
    if isinstance(value, tuple | list):
        raise BadReturn(
            f"{name} must return d{names[0]} alone (an array shaped like {names[0]}), not a "
            f"{type(value).__name__}."
        )
    return (value,)


def _fresh(args: Sequence) -> list:
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def layer_gradients(
    t: TestContext,
    layer: str,
    args: Sequence,
    *,
    names: Sequence[str],
    oracle: Callable | None = None,
    reference: Callable | None = None,
    wrt: Sequence[int] | None = None,
    kwargs: dict | None = None,
    forward_tol: Tol | None = None,
    tol: Tol | None = None,
    bugs: Callable | None = None,
    factors: dict | None = None,
    mutable: Sequence[int] = (),
    where: str = "",
) -> tuple:
    """``<layer>_forward(*args, **kwargs)``, then ``<layer>_backward`` twice on its cache.

    ``names`` are the differentiated arguments (``["x", "alpha"]``) at positions ``wrt``
    (default ``0..``). The reference of each gradient is ``reference(args, dout)`` (a tuple in
    ``names`` order) when given, else the centred-difference VJP of the float64 ``oracle``
    (tolerance ``numeric``). With ``forward_tol`` the forward output is compared with
    ``oracle`` too. ``bugs(args, dout)`` returns, per gradient, a list of ``Bug``. ``where``
    describes the input for the labels. Returns the student's gradients.
    """
    kwargs = dict(kwargs or {})
    wrt = list(wrt) if wrt is not None else list(range(len(names)))
    fresh = _fresh(args)
    expected_out = oracle(*_fresh(fresh), **kwargs) if oracle is not None else None
    shape = np.shape(expected_out) if expected_out is not None else np.shape(fresh[0])
    dout = t.rng.standard_normal(shape)
    name = f"{layer}_backward"
    # One exchange: the forward, then the backward twice on the cache the forward kept.
    cache = Earlier(0)[1]
    forward_call, first_call, again_call = t.batch(
        Call(f"{layer}_forward", tuple(args), kwargs, keep=(1,), mutable=tuple(mutable)),
        Call(name, (dout.copy(), cache)),
        Call(name, (dout.copy(), cache)),
    )
    out, _ = pair(t, f"{layer}_forward", forward_call.value)
    suffix = f" ({where})" if where else ""
    if forward_tol is not None and expected_out is not None:
        expect(
            t,
            f"{layer}_forward output{suffix}",
            out,
            expected_out,
            tol=forward_tol,
            factors=factors,
        )
    first = gradients(t, name, first_call.value, names)
    again = gradients(t, name, again_call.value, names)
    t.check(
        f"{name} called twice",
        all(same(a, b) for a, b in zip(first, again, strict=True)),
        TWICE.format(name=name),
    )
    if reference is not None:
        refs = reference(_fresh(fresh), dout)
        tols = [tol or exact()] * len(names)
    else:
        refs = [reference_vjp(oracle, fresh, i, dout, kwargs) for i in wrt]
        scale = float(np.sum(np.abs(np.asarray(expected_out) * dout)))
        tols = [tol or numeric(scale)] * len(names)
    for k, gname in enumerate(names):
        expect(
            t,
            f"{name} d{gname}{suffix}",
            first[k],
            refs[k],
            tol=tols[k],
            bugs=_bugs_of(bugs, fresh, dout, k),
            factors=factors,
            numeric_reference=reference is None,
        )
    return first


def _bugs_of(bugs: Callable | None, args: list, dout: np.ndarray, k: int) -> Callable | tuple:
    """The known bugs of gradient ``k``, computed only when its comparison fails."""
    if bugs is None:
        return ()

    def listed():
        per_gradient = bugs(_fresh(args), dout) or {}
        if isinstance(per_gradient, dict):
            return per_gradient.get(k, [])
        return per_gradient[k] if k < len(per_gradient) else []

    return listed


# ----------------------------------------------------------------------------- older helpers
# ``forward`` and ``backward`` are kept for the suites not yet moved to ``expect`` and
# ``layer_gradients``; both now go through them.


ANALYTIC_FACTOR = 50.0  # backward may cost this many forwards...
ANALYTIC_SLACK = 0.5  # ...plus this many CPU seconds (an honest Python loop over the input)


def analytic_backward(
    t: TestContext,
    layer: str,
    args: Sequence,
    *,
    kwargs: dict | None = None,
    backward: str | None = None,
    out_shape: tuple | None = None,
) -> bool:
    """``<layer>_backward`` (or ``backward``) on the cache of ``<layer>_forward(*args)`` costs
    at most
    ``ANALYTIC_FACTOR`` forwards plus ``ANALYTIC_SLACK`` CPU seconds, measured where the
    student's code ran. ``args`` should be large (about 10^4 entries): differentiating the
    forward numerically then costs two forwards per entry, thousands of times more.
    ``out_shape`` is the forward's output shape when it is not that of ``args[0]``."""
    kwargs = dict(kwargs or {})
    dout = t.rng.standard_normal(out_shape or np.shape(args[0]))
    backward = backward or f"{layer}_backward"
    forward_call, backward_call = t.batch(
        Call(f"{layer}_forward", tuple(args), kwargs, keep=(1,)),
        Call(backward, (dout, Earlier(0)[1])),
    )
    pair(t, f"{layer}_forward", forward_call.value)
    backward_call.value  # noqa: B018  (raises what the backward raised)
    forward_seconds, backward_seconds = forward_call.seconds, backward_call.seconds
    if forward_seconds is None or backward_seconds is None:
        return True  # nothing measured: nothing to hold against the student
    budget = ANALYTIC_FACTOR * forward_seconds + ANALYTIC_SLACK
    size = int(np.size(args[0]))
    return t.check(
        f"{backward} is analytic",
        backward_seconds <= budget,
        f"{backward} took {backward_seconds:.2f} s of CPU on an input of {size} entries, "
        f"where its forward took {forward_seconds:.4f} s (allowed: {budget:.2f} s): write the "
        "backward pass with the derivative itself, not by differentiating the forward "
        "numerically.",
    )


def forward(
    t: TestContext,
    name: str,
    args: Sequence,
    oracle: Callable,
    *,
    kwargs: dict | None = None,
    rtol: float = 1e-7,
    label: str | None = None,
    factors: dict | None = None,
    returns_cache: bool = True,
):
    """Call ``name(*args, **kwargs)`` and compare its output with ``oracle(*args, **kwargs)``.

    Returns ``(out, cache)`` (cache a Handle) when ``returns_cache``, else the value.
    """
    kwargs = dict(kwargs or {})
    expected = oracle(*_fresh(args), **kwargs)
    value = t.call(name, *args, keep=(1,) if returns_cache else (), **kwargs)
    out, cache = pair(t, name, value) if returns_cache else (value, None)
    expect(t, label or f"{name} output", out, expected, tol=Tol(rtol), factors=factors)
    return (out, cache) if returns_cache else out


def backward(
    t: TestContext,
    layer: str,
    args: Sequence,
    oracle: Callable,
    *,
    names: Sequence[str],
    wrt: Sequence[int] | None = None,
    kwargs: dict | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    factors: dict | None = None,
    expected: Sequence[np.ndarray] | None = None,
    mutable: Sequence[int] = (),
):
    """``layer_gradients`` with an explicit ``rtol``/``atol`` (the older signature)."""
    reference = (lambda _args, _dout: expected) if expected is not None else None
    return layer_gradients(
        t,
        layer,
        args,
        names=names,
        oracle=oracle,
        reference=reference,
        wrt=wrt,
        kwargs=kwargs,
        tol=Tol(rtol, atol),
        factors=factors,
        mutable=mutable,
    )


def _equal(a, b) -> bool:
    """Old name of ``same`` (callers move to ``same``)."""
    return same(a, b)
