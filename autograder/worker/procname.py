"""Process names for people and profilers (``ps``, ``top``, ``perf``)."""

import ctypes
import functools
import sys

_PR_SET_NAME = 15


def name_process(name):
    """Show this process as ``name`` (at most 15 characters): ``ll-grader`` (a grading
    process), ``ll-zygote``, ``ll-watcher``, ``ll-worker``, ``ll-test`` (one test's fork).
    ``prctl`` rather than ``/proc/self/comm``, which an unprivileged worker may not write;
    elsewhere than on Linux, nothing."""
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


@functools.cache
def _libc():
    return ctypes.CDLL(None)
