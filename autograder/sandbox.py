"""Starting the worker in a sandbox and talking to it.

``WorkerClient`` is the grading process's side of the channel and implements the ``Student``
protocol of ``autograder.suite``. The worker runs under bubblewrap when ``bwrap`` is present:
read-only system and Python environment, a private writable directory holding only the
submission, no network, its own PID namespace, an unprivileged user id. Always, whether or not
bubblewrap is there: resource limits (address space, CPU time, file size, processes), a
scrubbed environment, a wall-clock limit per test, a cap on captured output, and every process
killed at the end.
"""

from __future__ import annotations

import functools
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.suite import (
    CallTimeout,
    FunctionSpec,
    Handle,
    StudentCodeProblem,
    StudentRaised,
    WorkerKilled,
)
from autograder.worker import wire

WORKER_PACKAGE = Path(__file__).resolve().parent / "worker"
LAYERLAB_PACKAGE = Path(__file__).resolve().parent.parent / "layerlab"
SANDBOX_HOME = "/sandbox"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 1024**3
    cpu_seconds_per_test: int = 60
    load_seconds: float = 300.0
    file_bytes: int = 64 * 1024**2
    processes: int = 64
    output_bytes: int = 64 * 1024
    message_bytes: int = 256 * 1024**2
    allow_unsandboxed: bool = True  # False when grading others' code: no bwrap, no run


def bwrap_path() -> str | None:
    """The bubblewrap binary when it is installed and usable here, else None."""
    if os.environ.get("LAYERLAB_NO_BWRAP"):
        return None
    path = shutil.which("bwrap")
    if not path or not sys.platform.startswith("linux"):
        return None
    return path


MISSING_PROTECTIONS = (
    "bubblewrap (bwrap) is not installed, so student code runs WITHOUT filesystem, network "
    "and process isolation (resource limits still apply). Install it with "
    "`apt-get install bubblewrap` before grading real submissions."
)


class SandboxUnavailable(Exception):
    """Students' code would run unconfined, and that was not allowed."""


@functools.lru_cache(maxsize=1)
def _sandbox_problem() -> str | None:
    """Why bubblewrap cannot confine code here (tried once per process), or None."""
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        probe = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not be started ({exc})"
    if probe.returncode != 0:
        detail = probe.stderr.strip()[:200]
        return f"bubblewrap is installed but cannot create a sandbox here ({detail})"
    return None


def require_sandbox() -> None:
    """Raise ``SandboxUnavailable`` with the fix when students' code cannot be confined."""
    problem = _sandbox_problem()
    if problem:
        raise SandboxUnavailable(
            f"Refusing to run other people's code: {problem}. Install it with "
            "`apt-get install bubblewrap` (or `make system-deps` as root), or pass --no-sandbox "
            "to grade code you trust without isolation."
        )


def _ancestor_dirs(path: Path) -> list[str]:
    return [str(p) for p in reversed(path.parents) if str(p) != "/"]


def bwrap_command(bwrap: str, workdir: Path, env: dict[str, str]) -> list[str]:
    """The bubblewrap command line that runs the worker with ``workdir`` as its only
    writable (and only project) directory and ``env`` as its whole environment."""
    cmd = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
        "--ro-bind", "/usr", "/usr",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
    ]  # fmt: skip
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        target = Path("/" + name)
        if target.is_symlink():
            cmd += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            cmd += ["--ro-bind", str(target), str(target)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(etc):
            cmd += ["--ro-bind", etc, etc]
    created: set[str] = {"/usr", "/tmp", "/proc", "/dev"}
    ro = {sys.base_prefix: sys.base_prefix, sys.prefix: sys.prefix}
    ro[str(WORKER_PACKAGE)] = "/opt/judge/judge_worker"
    ro[str(LAYERLAB_PACKAGE)] = "/opt/judge/layerlab"
    for src, dst in ro.items():
        for d in _ancestor_dirs(Path(dst)):
            if d not in created:
                cmd += ["--perms", "0755", "--dir", d]
                created.add(d)
        cmd += ["--ro-bind", src, dst]
        created.add(dst)
    cmd += ["--bind", str(workdir), SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    cmd += ["--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd


def worker_environment(uid: int | None, processes: int) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": SANDBOX_HOME,
        "PYTHONPATH": "/opt/judge",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
        "JUDGE_NPROC": str(processes),
    }
    if uid is not None:
        env["JUDGE_UID"] = str(uid)
    return env


def _sandbox_uid() -> int:
    # One unprivileged id per grading process, so the process-count limit is per sandbox.
    return 40000 + os.getpid() % 20000


class WorkerClient:
    """The grading side of one sandboxed worker holding one submission's code."""

    def __init__(self, submission: Path, cells: list[str], mode: str, limits: Limits):
        self.submission = submission
        self.cells = cells
        self.mode = mode
        self.limits = limits
        self.bwrap = bwrap_path()
        self.proc: subprocess.Popen | None = None
        self.names: set[str] = set()
        self.load_problems: list[dict] = []
        self.output = bytearray()
        self.output_truncated = False
        self.in_test = False
        self.deadline = 0.0
        self.workdir: Path | None = None

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and load the submission's code (raises StudentCodeProblem)."""
        self.close()
        self.workdir = Path(tempfile.mkdtemp(prefix="layerlab-sandbox-"))
        shutil.copy2(self.submission, self.workdir / self.submission.name)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.proc = start_sandboxed(
            ["judge_worker.main", str(to_worker_r), str(from_worker_w)],
            self.workdir,
            self.limits,
            bwrap=self.bwrap,
            pass_fds=(to_worker_r, from_worker_w),
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._to = os.fdopen(to_worker_w, "wb", buffering=0)
        self._replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_replies, args=(from_worker_r,), daemon=True).start()
        threading.Thread(target=self._drain_output, daemon=True).start()
        self.in_test = False
        self.deadline = time.monotonic() + self.limits.load_seconds
        reply = self._request({"op": "load", "cells": self.cells, "mode": self.mode})
        self.load_problems = reply.get("problems", [])
        self.names = set(reply.get("names", []))

    def close(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- tests -----------------------------------------------------------------------

    def begin_test(self, seconds: float) -> None:
        """Fork a fresh copy of the loaded submission to serve one test."""
        if not self.alive:
            self.start()
        self.deadline = time.monotonic() + seconds + 5.0
        cpu = int(min(self.limits.cpu_seconds_per_test, seconds + 2))
        self._send({"op": "fork", "cpu_seconds": max(cpu, 1), "wall_seconds": seconds})
        self.in_test = True

    def end_test(self) -> None:
        if not self.in_test:
            return
        self.in_test = False
        try:
            self._send({"op": "end"})
            clean = self._receive().get("ended") == "exit"
        except StudentCodeProblem:
            clean = False
        if not clean:
            self.close()

    # -- Student protocol ----------------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self.names

    def call(self, target, args, kwargs, keep):
        name = target if isinstance(target, str) else f"{target[0].type_name}.{target[1]}"
        wire_target = target if isinstance(target, str) else [_ref(target[0]), target[1]]
        reply = self._request(
            {
                "op": "call",
                "target": wire_target,
                "args": [_to_wire(a) for a in args],
                "kwargs": {k: _to_wire(v) for k, v in kwargs.items()},
                "keep": list(keep),
            },
            during=name,
        )
        if reply.get("missing"):
            raise StudentRaised(f"{name} is not callable in your submission.")
        changed = {int(k): v for k, v in reply.get("changed", {}).items()}
        return reply["value"], changed, list(reply.get("fp", []))

    def attr(self, handle: Handle, name: str):
        message = {"op": "attr", "handle": _ref(handle), "name": name}
        return self._request(message, during=f"reading {handle.type_name}.{name}")["value"]

    def assign(self, handle: Handle, path, value) -> None:
        message = {"op": "assign", "handle": _ref(handle), "path": list(path), "value": value}
        self._request(message, during=f"setting {handle.type_name}.{'.'.join(path)}")

    # -- the channel -------------------------------------------------------------------

    def _send(self, message) -> None:
        try:
            wire.write_frames(self._to, wire.encode(message))
        except (BrokenPipeError, OSError):
            pass  # the reply (or its absence) tells what happened

    def _request(self, message, during: str = "loading your notebook"):
        self._send(message)
        reply = self._receive(during)
        if "ended" in reply:
            self.in_test = False
            raise _ended_problem(reply, during, self.limits)
        if "error" in reply:
            raise _raised_problem(reply["error"], during, self.limits)
        return reply

    def _receive(self, during: str = "") -> dict:
        timeout = max(0.0, self.deadline - time.monotonic())
        try:
            item = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise CallTimeout(
                f"time limit reached while {('running ' + during) if during else 'grading'}: "
                "look for an infinite loop or a very slow computation."
            ) from None
        if isinstance(item, Exception):
            self.close()
            if isinstance(item, EOFError):
                raise WorkerKilled(
                    f"the Python process running your code died while running {during}."
                ) from None
            raise WorkerKilled(f"your code broke the grading channel ({item}).") from None
        if not isinstance(item, dict):
            self.close()
            raise WorkerKilled("your code broke the grading channel.")
        return item

    def _read_replies(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while True:
                try:
                    frames = wire.read_frames(stream, self.limits.message_bytes)
                    self._replies.put(wire.decode(frames, _handle_from_wire))
                except Exception as exc:  # noqa: BLE001  (EOFError, WireError, anything)
                    self._replies.put(exc)
                    return

    def _drain_output(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        while True:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                return
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += chunk[:room]
            if len(chunk) > room:
                self.output_truncated = True


def start_sandboxed(
    module_args: list[str],
    workdir: Path,
    limits: Limits,
    bwrap: str | None,
    pass_fds: tuple[int, ...] = (),
    cpu_seconds: float | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """Start ``python -m MODULE ARGS...`` from the worker package in the sandbox, with
    ``workdir`` (whose files become the sandbox user's) as its home and working directory.
    Its output (stdout and stderr together) is a pipe; it leads its own process group."""
    if not bwrap and not limits.allow_unsandboxed:
        require_sandbox()
        raise SandboxUnavailable(
            "bubblewrap was not used for this run; refusing to run unconfined."
        )
    uid = _sandbox_uid() if (bwrap and os.getuid() == 0) else None
    if uid is not None:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, uid, uid)
    env = worker_environment(uid, limits.processes)
    env.update(extra_env or {})
    argv = [sys.executable, "-m", *module_args]
    if bwrap:
        cmd = bwrap_command(bwrap, workdir, env) + argv
        cwd, popen_env = None, {"PATH": "/usr/bin:/bin"}
    else:
        cmd, cwd, popen_env = argv, str(workdir), dict(env)
        popen_env["HOME"] = str(workdir)
        popen_env["PYTHONPATH"] = str(workdir.parent / "layerlab-judge-path")
        _prepare_unsandboxed_path(Path(popen_env["PYTHONPATH"]))
    cpu = int(cpu_seconds if cpu_seconds is not None else limits.load_seconds + 30)
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=popen_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=pass_fds,
        preexec_fn=lambda: _child_limits(limits, cpu),
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a sandboxed process and everything it started (its process group), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _child_limits(limits: Limits, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def _prepare_unsandboxed_path(path: Path) -> None:
    """Without bubblewrap, expose only the worker package and layerlab via symlinks."""
    path.mkdir(exist_ok=True)
    for name, src in (("judge_worker", WORKER_PACKAGE), ("layerlab", LAYERLAB_PACKAGE)):
        link = path / name
        if not link.exists():
            try:
                link.symlink_to(src)
            except FileExistsError:
                pass


def _ref(handle: Handle) -> wire.HandleRef:
    return wire.HandleRef(handle.id, handle.type_name)


def _handle_from_wire(handle_id: int, type_name: str) -> Handle:
    return Handle(handle_id, type_name)


def _to_wire(value):
    if isinstance(value, Handle):
        return _ref(value)
    if isinstance(value, FunctionSpec):
        return wire.FunctionRef(value.name, value.params)
    if isinstance(value, tuple):
        return tuple(_to_wire(v) for v in value)
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    return value


def _raised_problem(error: dict, during: str, limits: Limits) -> StudentCodeProblem:
    kind, message = error.get("type", "Exception"), error.get("message", "")
    where = f" ({error['where']})" if error.get("where") else ""
    if kind == "NotImplementedError":
        return StudentRaised(f"{during} is not implemented yet (it raises NotImplementedError).")
    if kind == "MemoryError":
        gib = limits.memory_bytes / 1024**3
        return WorkerKilled(f"{during} ran out of memory (limit {gib:g} GiB){where}.")
    return StudentRaised(f"{during} raised {kind}: {message}{where}")


def _ended_problem(reply: dict, during: str, limits: Limits) -> StudentCodeProblem:
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
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig
        return WorkerKilled(f"the process running {during} was killed by signal {name}.")
    return StudentRaised(
        f"{during} ended the Python process (exit status {reply.get('code')}); graded code "
        "must not call exit()."
    )


def sandbox_warning() -> str | None:
    return None if bwrap_path() else MISSING_PROTECTIONS
