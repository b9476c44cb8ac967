"""Pre-imported worker starts: ``zygote_for`` gives this process's zygote (see
``judge_worker.zygote``), whose ``spawn`` puts a worker forked from it into a sandbox that
bubblewrap has just built around ``PLACEHOLDER`` (``jail.start_sandboxed`` does both), so a
submission does not pay for a new interpreter and its imports (80 ms with numpy, 0.4 s with
matplotlib).

Used only where it can be as tight as a fresh start: bubblewrap, and the grader running as
root (joining another sandbox's namespaces needs the capabilities a root-started bubblewrap
keeps). Elsewhere, with ``LAYERLAB_NO_ZYGOTE`` set, or when the zygote cannot start,
``zygote_for`` returns None and the sandbox starts a fresh interpreter as before.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading

from autograder.sandbox.bwrap import sandbox_python_path, worker_environment, zygote_command
from autograder.worker.zygote import NAMESPACES

BASE_MODULES = ("numpy", "layerlab.data", "layerlab.gradcheck", "layerlab.hints",
                "layerlab.special", "layerlab.train", "layerlab.verdicts")  # fmt: skip
# A whole notebook imports matplotlib; definitions-only loads bind it lazily and never need
# it, and a smaller worker forks faster for each test.
WHOLE_MODULES = (*BASE_MODULES, "matplotlib.pyplot", "layerlab.plots")
SPAWN_SECONDS = 30.0
FAILURES_ALLOWED = 3  # spawns that may fail in one process before it stops preloading
# Holds a sandbox open for the worker: says it is built (a newline on the output pipe), then
# waits until every holder of the other end of its input (the worker) is gone.
PLACEHOLDER = ["/bin/sh", "-c", "echo; exec cat"]

_zygotes: dict[tuple[str, ...], Zygote] = {}
_failures: dict[tuple[str, ...], int] = {}
_lock = threading.Lock()


class ZygoteError(Exception):
    """The zygote could not start or could not place a worker; start a fresh one instead."""


class Zygote:
    """One zygote process (in its own bubblewrap sandbox) and the socket to it."""

    def __init__(self, bwrap: str, modules: tuple[str, ...]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = worker_environment(None, 64)
        env["PYTHONPATH"] = sandbox_python_path()
        cmd = zygote_command(bwrap, env)
        cmd += [sys.executable, "-S", "-m", "judge_worker.zygote", str(theirs.fileno()), *modules]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # what goes wrong comes back on the socket
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.owner = os.getpid()
        self.lock = threading.Lock()  # one spawn at a time on the socket
        ready = self._reply(120.0)
        if not ready.get("ready"):
            self.close()
            raise ZygoteError(f"the zygote did not start ({ready.get('error', ready)})")

    def spawn(self, fds: list[int], request: dict) -> None:
        """Fork a worker into the sandbox whose namespaces, root and channel are ``fds``."""
        with self.lock:
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            reply = self._reply(SPAWN_SECONDS)
        if not reply.get("ok"):
            raise ZygoteError(str(reply.get("error", reply))[:500])

    def _reply(self, seconds: float) -> dict:
        ready, _, _ = select.select([self.sock], [], [], seconds)
        message = self.sock.recv(1 << 16) if ready else b""
        if not message:
            self.close()
            raise ZygoteError("the zygote stopped answering")
        return json.loads(message)

    def close(self) -> None:
        self.sock.close()
        self.proc.kill()
        self.proc.wait()


def zygote_for(bwrap: str | None, modules: tuple[str, ...]) -> Zygote | None:
    """This process's zygote preloading ``modules``, started on first use; None where a
    pre-imported start is not possible here (see the module's docstring)."""
    if not bwrap or os.getuid() != 0 or os.environ.get("LAYERLAB_NO_ZYGOTE"):
        return None
    with _lock:
        zygote = _zygotes.get(modules)
        if zygote is not None and (zygote.owner != os.getpid() or zygote.proc.poll() is not None):
            zygote = None  # a forked copy's, or dead: start another
        if zygote is None and _failures.get(modules, 0) < FAILURES_ALLOWED:
            try:
                zygote = Zygote(bwrap, modules)
            except (OSError, ZygoteError) as exc:
                _failures[modules] = FAILURES_ALLOWED
                print(f"layerlab: workers start without preloading ({exc})", file=sys.stderr)
                return None
            _zygotes[modules] = zygote
        return zygote


def forget(modules: tuple[str, ...]) -> None:
    """Drop this process's zygote for ``modules`` after it failed to place a worker (the next
    sandbox starts another one, until ``FAILURES_ALLOWED`` failures)."""
    with _lock:
        zygote = _zygotes.pop(modules, None)
        _failures[modules] = _failures.get(modules, 0) + 1
    if zygote is not None and zygote.owner == os.getpid():
        zygote.close()


def sandbox_fds(child_pid: int) -> list[int]:
    """Open descriptors of the namespaces and the root directory of sandbox process
    ``child_pid`` (bubblewrap's first process in the sandbox), in ``NAMESPACES`` order."""
    opened = []
    try:
        for name in NAMESPACES:
            opened.append(os.open(f"/proc/{child_pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
        opened.append(os.open(f"/proc/{child_pid}/root", os.O_RDONLY | os.O_DIRECTORY))
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise
    return opened


def read_info(fd: int, seconds: float = SPAWN_SECONDS) -> dict:
    """Bubblewrap's ``--info-fd`` JSON (its first sandbox process's ``child-pid``)."""
    data = b""
    with os.fdopen(fd, "rb", buffering=0) as info:
        while True:
            ready, _, _ = select.select([info], [], [], seconds)
            chunk = info.read(4096) if ready else b""
            if not chunk:
                break
            data += chunk
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ZygoteError(
            f"bubblewrap did not say which process it started ({data[:200]!r})"
        ) from exc


def wait_ready(fd: int, seconds: float = SPAWN_SECONDS) -> None:
    """Wait for the placeholder's newline on the output pipe ``fd``: the sandbox is built."""
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready or os.read(fd, 1) != b"\n":
        raise ZygoteError("the sandbox's placeholder did not start")
