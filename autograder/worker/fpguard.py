"""Observing numpy's floating-point events during a graded call, whatever the student's code
does to numpy's error state.

A stability test asks whether a call overflowed, divided by zero or produced an invalid value.
numpy reports these according to its error state, which code can change (``np.errstate``,
``np.seterr``, ``np.seterrcall``, as a context manager or a decorator): a student could hide
every warning with ``np.errstate(all="ignore")``. ``install`` routes every change of the error
state through ``_make_extobj`` below; while ``observing`` is active, a change requested by code
that is not an installed library (the student's cells, anything outside ``sys.prefix``) keeps
its "raise" settings but has every other setting ("ignore", "warn", "print", "log", "call")
turned into a call of the observer. numpy's and other libraries' own internal suppressions
(``np.isclose``, ``np.linalg``) are left alone, so they behave and report as usual.

This is one of two layers: code that goes after numpy's private C objects or the worker itself
can still lie, which is why the grading process also flags non-finite results on its own.
"""

import contextlib
import os
import sys

from numpy._core import _ufunc_config, umath

_original_make_extobj = umath._make_extobj
_contextvar = umath._extobj_contextvar
_CONFIG_FILE = os.path.normcase(_ufunc_config.__file__)
_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.join(p, "")) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
)
_MODES = ("all", "divide", "over", "under", "invalid")

_state = {"events": None}


def _record(kind, flag):
    events = _state["events"]
    if events is not None:
        events.append(kind)


def _requested_by_library(depth=2):
    """Whether the code that asked for the change (the first frame outside numpy's error
    state module) is an installed library."""
    frame = sys._getframe(depth)
    while frame is not None and os.path.normcase(frame.f_code.co_filename) == _CONFIG_FILE:
        frame = frame.f_back
    if frame is None:
        return True
    return os.path.normcase(frame.f_code.co_filename).startswith(_LIBRARY_DIRS)


def _make_extobj(*args, **kwargs):
    """numpy's ``_make_extobj`` with the student's requests remapped while observing."""
    if _state["events"] is None or args or _requested_by_library():
        return _original_make_extobj(*args, **kwargs)
    remapped = {}
    for key in _MODES:
        mode = kwargs.get(key)
        if mode is not None:
            remapped[key] = "raise" if mode == "raise" else "call"
    remapped["call"] = _record
    return _original_make_extobj(**remapped)


def install():
    """Route every change of numpy's error state through the guard (once, before any student
    code runs)."""
    _ufunc_config._make_extobj = _make_extobj
    umath._make_extobj = _make_extobj


@contextlib.contextmanager
def observing():
    """Collect the floating-point events of the enclosed code into the yielded list (each
    kind once per occurrence: "overflow", "divide by zero", "invalid value", "underflow")."""
    events = []
    previous = _state["events"]
    _state["events"] = events
    token = _contextvar.set(_original_make_extobj(all="call", call=_record))
    try:
        yield events
    finally:
        _contextvar.reset(token)
        _state["events"] = previous
