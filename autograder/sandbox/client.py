"""The grading process's side of one sandboxed worker: ``WorkerClient`` (the ``Student``
protocol of ``autograder.suite``) starts the worker, sends requests, checks every reply
(its size, its fields, its time) and turns a broken channel into ``WorkerKilled``.
"""

from __future__ import annotations

import math
import os
import select
import threading
import time
from pathlib import Path

from autograder.sandbox.jail import Sandbox, start_sandboxed
from autograder.sandbox.limits import Limits
from autograder.sandbox.problems import ended_problem, raised_problem
from autograder.sandbox.zygote import BASE_MODULES, WHOLE_MODULES
from autograder.suite import (
    Assign,
    CallTimeout,
    Earlier,
    FunctionSpec,
    Handle,
    Outcome,
    StudentCodeProblem,
    StudentRaised,
    WorkerKilled,
    has_non_finite,
)
from autograder.worker import wire


class _Reader:
    """Reads from the worker's reply pipe only when a reply is due, never past ``deadline``,
    and stops waiting as soon as the sandbox is dead."""

    def __init__(self, fd: int, sandbox: Sandbox):
        self.fd = fd
        self.sandbox = sandbox
        self.deadline = math.inf
        os.set_blocking(fd, False)
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def read(self, n: int) -> bytes:
        while True:
            try:
                return os.read(self.fd, min(n, 1 << 20))
            except BlockingIOError:
                pass
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not self.poll.poll(min(left, 0.1) * 1000) and not self.sandbox.alive:
                try:
                    return os.read(self.fd, min(n, 1 << 20))
                except BlockingIOError:
                    return b""  # dead and silent: as good as closed

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class _Writer:
    """Writes requests to the worker's pipe, never blocking past ``deadline`` (a worker that
    stops reading cannot hang the grading process)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.deadline = math.inf
        os.set_blocking(fd, False)
        self.poll = select.poll()
        self.poll.register(fd, select.POLLOUT)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fd, view) :]
                continue
            except BlockingIOError:
                pass
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.poll.poll(min(left, 0.1) * 1000)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


# What a reply may hold, per request: field -> accepted types.
_REPLY_FIELDS = {
    "load": {"problems": list, "names": list},
    "call": {"value": object, "changed": dict, "fp": list, "seconds": float | int},
    "attr": {"value": object},
    "assign": {},
    "usage": {"cpu": float | int},
}


class WorkerClient:
    """The grading side of one sandboxed worker holding one submission's code.

    ``last_call_seconds`` is the CPU time (seconds, measured in the student's process) of the
    last ``call``; ``restarts`` counts workers started again after one died."""

    def __init__(
        self,
        submission: Path,
        cells: list[str],
        mode: str,
        limits: Limits,
        numbers: list[int] | None = None,
    ):
        self.submission = submission
        self.cells = cells
        self.numbers = numbers  # the cells' numbers as JupyterLab shows them
        self.mode = mode
        self.limits = limits
        self.sandbox: Sandbox | None = None
        self.names: set[str] = set()
        self.load_problems: list[dict] = []
        self.output = bytearray()
        self.output_truncated = False
        self.in_test = False
        self.deadline = 0.0
        self.budget_ends: float | None = None
        self.restarts = 0
        self.last_call_seconds: float | None = None
        self.load_seconds: float | None = None  # CPU seconds the worker spent running the cells
        self.start_seconds: float | None = None  # CPU seconds before that (interpreter, imports)
        self.peak_memory: int | None = None
        self._seq = 0
        self._reader: _Reader | None = None
        self._to = None

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and load the submission's code (raises StudentCodeProblem)."""
        self.close()
        if self.budget_ends is None:
            self.budget_ends = time.monotonic() + self.limits.submission_seconds
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        try:
            self.sandbox = start_sandboxed(
                ["judge_worker.main", str(to_worker_r), str(from_worker_w)],
                self.limits,
                files={self.submission.name: self.submission},
                pass_fds=(to_worker_r, from_worker_w),
                preload=WHOLE_MODULES if self.mode == "all" else BASE_MODULES,
            )
        except BaseException:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
                os.close(fd)
            raise
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._to = _Writer(to_worker_w)
        self._reader = _Reader(from_worker_r, self.sandbox)
        threading.Thread(target=self._drain_output, args=(self.sandbox,), daemon=True).start()
        self.in_test = False
        self._set_deadline(self.limits.load_seconds)
        reply = self._request(
            {"op": "load", "cells": self.cells, "mode": self.mode, "numbers": self.numbers}
        )
        self.load_problems = [p for p in reply["problems"] if isinstance(p, dict)]
        self.names = {n for n in reply["names"] if isinstance(n, str)}
        seconds = reply.get("seconds")
        self.load_seconds = float(seconds) if isinstance(seconds, int | float) else None
        before = reply.get("before")  # CPU of the interpreter's start and imports
        self.start_seconds = float(before) if isinstance(before, int | float) else None

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.kill()
            peak = self.sandbox.peak_memory()
            if peak is not None:
                self.peak_memory = max(self.peak_memory or 0, peak)
            self.sandbox.close()
            self.sandbox = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._to is not None:
            self._to.close()
            self._to = None
        self.in_test = False

    @property
    def alive(self) -> bool:
        return self.sandbox is not None and self.sandbox.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _set_deadline(self, seconds: float) -> None:
        self.deadline = min(time.monotonic() + seconds, self.budget_ends or math.inf)

    # -- tests -----------------------------------------------------------------------

    def begin_test(self, seconds: float) -> None:
        """Fork a fresh copy of the loaded submission to serve one test."""
        if self.budget_ends is not None and time.monotonic() >= self.budget_ends:
            self.close()
            raise CallTimeout(
                f"not run: grading this submission took longer than its budget of "
                f"{self.limits.submission_seconds:g} s (look for very slow code)."
            )
        if not self.alive:
            if self.sandbox is not None or self.budget_ends is not None:
                if self.restarts >= self.limits.max_restarts:
                    raise WorkerKilled(
                        f"not run: the process running your code died {self.restarts + 1} "
                        "times (your code must not kill or exit the process it runs in)."
                    )
                self.restarts += 1
            self.start()
        self._set_deadline(seconds + 5.0)
        cpu = int(min(self.limits.cpu_seconds_per_test, seconds + 2))
        self._send({"op": "fork", "cpu_seconds": max(cpu, 1), "wall_seconds": seconds})
        self.in_test = True

    def end_test(self) -> None:
        if not self.in_test:
            return
        self.in_test = False
        try:
            self._send({"op": "end"})
            clean = self._receive("end").get("ended") == "exit"
        except StudentCodeProblem:
            clean = False
        if not clean:
            self.close()

    # -- Student protocol ----------------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self.names

    def call(self, target, args, kwargs, keep):
        self.last_call_seconds = None
        name = _target_name(target)
        reply = self._request(_call_message(target, args, kwargs, keep), during=name)
        return self._call_result(name, args, reply)

    def _call_result(self, name, args, reply):
        """``(value, changed, fp_events)`` of a call's validated reply."""
        if reply.get("missing") is True:
            raise StudentRaised(f"{name} is not callable in your submission.")
        changed = {}
        for key, value in reply["changed"].items():
            if not key.isdigit() or int(key) >= len(args):
                raise self._broken(name, "an argument that does not exist was reported changed")
            changed[int(key)] = value
        events = [e for e in reply["fp"] if isinstance(e, str)]
        if has_non_finite(reply["value"]):
            events.append("non-finite result")
        self.last_call_seconds = float(reply["seconds"])
        return reply["value"], changed, sorted(set(events))

    def batch(self, requests):
        """``requests`` (``Call`` and ``Assign``) sent as one message; the worker answers each
        as if it had been sent alone, as soon as it has run, and stops after the first that
        fails. Each reply is checked as a lone one would be."""
        messages, names = [], []
        for request in requests:
            if isinstance(request, Assign):
                names.append(f"setting {request.handle.type_name}.{'.'.join(request.path)}")
                messages.append(_assign_message(request.handle, request.path, request.value))
            else:
                names.append(_target_name(request.target))
                messages.append(
                    _call_message(request.target, request.args, request.kwargs, request.keep)
                )
        first = self._seq + 2  # the batch message itself takes the next number
        for i, message in enumerate(messages):
            message["seq"] = first + i
        self._send({"op": "batch", "requests": messages})
        self._seq += len(messages)
        outcomes = []
        for i, (request, name) in enumerate(zip(requests, names, strict=True)):
            self.last_call_seconds = None
            try:
                reply = self._reply(messages[i]["op"], first + i, name)
                if isinstance(request, Assign):
                    outcomes.append(Outcome())
                    continue
                value, changed, events = self._call_result(name, request.args, reply)
            except StudentCodeProblem as exc:
                outcomes.append(Outcome(problem=exc))
                break
            outcomes.append(Outcome(value, changed, events, self.last_call_seconds))
        return outcomes

    def usage(self) -> float | None:
        """CPU seconds the worker and its finished tests have used so far (for profiling)."""
        if self.in_test or not self.alive:
            return None
        return float(self._request({"op": "usage"}, during="measuring")["cpu"])

    def attr(self, handle: Handle, name: str):
        message = {"op": "attr", "handle": _ref(handle), "name": name}
        return self._request(message, during=f"reading {handle.type_name}.{name}")["value"]

    def assign(self, handle: Handle, path, value) -> None:
        message = _assign_message(handle, path, value)
        self._request(message, during=f"setting {handle.type_name}.{'.'.join(path)}")

    # -- the channel -------------------------------------------------------------------

    def _send(self, message) -> None:
        self._seq += 1
        message = {**message, "seq": self._seq}
        if self._to is None:
            return  # no worker: the missing reply tells what happened
        self._to.deadline = self.deadline
        try:
            wire.write_frames(self._to, wire.encode(message))
        except TimeoutError:
            self.close()
            raise CallTimeout(
                "time limit reached: your code stopped reading the grader's requests."
            ) from None
        except OSError:
            pass  # the worker is gone: the reply (or its absence) tells what happened

    def _request(self, message, during: str = "loading your notebook"):
        self._send(message)
        return self._reply(message["op"], self._seq, during)

    def _reply(self, op: str, seq: int, during: str):
        """The reply to request ``seq``, checked: its number, its fields, its size."""
        reply = self._receive(during)
        if "ended" in reply:
            self.in_test = False
            raise ended_problem(reply, during, self.limits)
        if reply.get("seq") != seq:
            raise self._broken(during, "a reply to a request that was not made")
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, dict):
                raise self._broken(during, "an error reply without a description")
            raise raised_problem(error, during, self.limits)
        if op == "call" and reply.get("missing") is True:
            return reply
        for key, kind in _REPLY_FIELDS[op].items():
            if key not in reply or not isinstance(reply[key], kind):
                raise self._broken(during, f"a reply without a valid {key!r}")
        return reply

    def _broken(self, during: str, what: str) -> WorkerKilled:
        self.close()
        return WorkerKilled(
            f"your code broke the grading channel while running {during} ({what}); graded "
            "code must not write to the grader's file descriptors."
        )

    def _receive(self, during: str = "") -> dict:
        what = ("running " + during) if during else "grading"
        if self._reader is None:
            raise WorkerKilled(f"the Python process running your code died while {what}.")
        self._reader.deadline = self.deadline
        try:
            frames = wire.read_frames(
                self._reader, self.limits.message_bytes, self.limits.header_bytes
            )
            item = wire.decode(frames, _handle_from_wire)
        except TimeoutError:
            self.close()
            if self.budget_ends is not None and time.monotonic() >= self.budget_ends:
                raise CallTimeout(
                    f"time limit reached while {what}: grading this submission took longer "
                    f"than its budget of {self.limits.submission_seconds:g} s."
                ) from None
            raise CallTimeout(
                f"time limit reached while {what}: look for an infinite loop or a very "
                "slow computation."
            ) from None
        except EOFError:
            self.close()
            raise WorkerKilled(f"the Python process running your code died while {what}.") from None
        except (wire.WireError, MemoryError) as exc:
            self.close()
            raise WorkerKilled(f"your code broke the grading channel ({exc}).") from None
        if not isinstance(item, dict):
            self.close()
            raise WorkerKilled(
                "your code broke the grading channel (a reply that is not a message)."
            )
        return item

    def _drain_output(self, sandbox: Sandbox) -> None:
        stream = sandbox.proc.stdout
        if stream is None:
            return
        try:
            while chunk := stream.read1(65536):
                room = self.limits.output_bytes - len(self.output)
                if room > 0:
                    self.output += chunk[:room]
                if len(chunk) > room:
                    self.output_truncated = True
        except (OSError, ValueError):
            return


def _target_name(target) -> str:
    return target if isinstance(target, str) else f"{target[0].type_name}.{target[1]}"


def _call_message(target, args, kwargs, keep) -> dict:
    wire_target = target if isinstance(target, str) else [_ref(target[0]), target[1]]
    return {
        "op": "call",
        "target": wire_target,
        "args": [_to_wire(a) for a in args],
        "kwargs": {k: _to_wire(v) for k, v in kwargs.items()},
        "keep": list(keep),
    }


def _assign_message(handle, path, value) -> dict:
    return {"op": "assign", "handle": _to_wire(handle), "path": list(path),
            "value": _to_wire(value)}  # fmt: skip


def _ref(handle: Handle) -> wire.HandleRef:
    return wire.HandleRef(handle.id, handle.type_name)


def _handle_from_wire(handle_id: int, type_name: str) -> Handle:
    return Handle(handle_id, type_name)


def _to_wire(value):
    if isinstance(value, Handle):
        return _ref(value)
    if isinstance(value, FunctionSpec):
        return wire.FunctionRef(value.name, value.params)
    if isinstance(value, Earlier):
        return wire.EarlierRef(value.index, value.path)
    if isinstance(value, tuple):
        return tuple(_to_wire(v) for v in value)
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    return value
