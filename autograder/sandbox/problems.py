"""What the student is told when their code fails inside the sandbox: an exception it
raised, or the end of the process running it (time limit, signal, ``exit()``), each as a
``StudentCodeProblem`` of ``autograder.suite``."""

from __future__ import annotations

import signal

from autograder.sandbox.limits import Limits
from autograder.suite import (
    CallTimeout,
    StudentCodeProblem,
    StudentRaised,
    WorkerKilled,
)


def raised_problem(error: dict, during: str, limits: Limits) -> StudentCodeProblem:
    """The problem to report for an exception the student's code raised (``error``: the
    worker's ``{"type", "message", "where"}``) while running ``during``."""
    kind, message = str(error.get("type", "Exception")), str(error.get("message", ""))[:500]
    where = f" ({str(error['where'])[:100]})" if error.get("where") else ""
    if kind == "NotImplementedError":
        return StudentRaised(f"{during} is not implemented yet (it raises NotImplementedError).")
    if kind == "MemoryError":
        gib = limits.memory_bytes / 1024**3
        return WorkerKilled(f"{during} ran out of memory (limit {gib:g} GiB){where}.")
    return StudentRaised(f"{during} raised {kind[:100]}: {message}{where}")


def ended_problem(reply: dict, during: str, limits: Limits) -> StudentCodeProblem:
    """The problem to report when the process running ``during`` ended instead of replying
    (``reply``: ``{"ended": "timeout" | "signal" | "exit", "signal", "code"}``)."""
    how = reply.get("ended")
    if how == "timeout":
        return CallTimeout(
            f"time limit reached while running {during}: look for an infinite loop or a very "
            "slow computation."
        )
    if how == "signal":
        sig = reply.get("signal")
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return WorkerKilled(f"{during} was stopped for using too much CPU time or memory.")
        known = isinstance(sig, int) and sig in signal.Signals._value2member_map_
        name = signal.Signals(sig).name if known else str(sig)[:20]
        return WorkerKilled(f"the process running {during} was killed by signal {name}.")
    return StudentRaised(
        f"{during} ended the Python process (exit status {str(reply.get('code'))[:20]}); graded "
        "code must not call exit()."
    )
