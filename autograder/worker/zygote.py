"""A pre-imported worker: starts numpy (and, for whole notebooks, matplotlib and layerlab)
once, then forks a fresh worker into each new sandbox that the grading process has built.

``python -S -m judge_worker.zygote SOCKET_FD [MODULE ...]`` runs in a bubblewrap sandbox of
its own (as root with all capabilities, the worker package and layerlab at their sandbox
paths, no student code ever), imports ``MODULE``s, then serves spawn requests on the socket.

A spawn request is one message: JSON ``{"env": {...}, "rlimits": {...}, "home": PATH}`` with
the file descriptors ``[ns_ipc, ns_uts, ns_net, ns_cgroup, ns_pid, ns_mnt, root, to_worker,
from_worker, output, life, sandbox_init, cgroup_procs...]`` attached (``sandbox_init``: a
pidfd of the sandbox's first process). Bubblewrap has already built that
sandbox (its mounts, namespaces and cgroup; a placeholder holds it open). The zygote forks a
child that moves into the cgroup, sets the limits, joins the namespaces and the sandbox's
root, then forks the worker: a process of the sandbox's PID namespace that drops to the
unprivileged user, closes every other descriptor and serves the channel as
``judge_worker.main`` does. The zygote answers ``{"ok": true}`` or ``{"error": why}``.

Nothing of one student reaches another: each worker is a copy of the zygote, which never ran
a student's code, and lives in its own sandbox, cgroup and PID namespace.
"""

import contextlib
import ctypes
import gc
import importlib
import json
import os
import resource
import signal
import socket
import sys
import traceback

import numpy as np

from . import fpguard
from . import main as main_module
from .main import Worker, drop_privileges
from .procname import name_process

NAMESPACES = ("ipc", "uts", "net", "cgroup", "pid", "mnt")
_PR_SET_NO_NEW_PRIVS = 38
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _enter_sandbox(request, fds):
    """In the spawned child (root): cgroup, limits, namespaces, root directory."""
    ns, root = fds[:6], fds[6]
    for procs in fds[12:]:
        os.write(procs, b"0")  # "0": the writing process
    for name, (soft, hard) in request["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    for fd, name in zip(ns, NAMESPACES, strict=True):
        _check(_libc.setns(fd, 0), f"joining the sandbox's {name} namespace")
    os.fchdir(root)
    os.chroot(".")
    os.chdir(request["home"])


def _become_worker(request, fds):
    """In the worker (the sandbox's PID namespace): the channel's descriptors only, the
    sandbox's environment, the unprivileged user, then serve."""
    to_worker, from_worker, output, life = fds[7:11]
    name_process("ll-worker")
    os.setsid()
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    os.dup2(output, 1)
    os.dup2(output, 2)
    _close_all_but(0, 1, 2, to_worker, from_worker, life)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [main_module.__file__, str(to_worker), str(from_worker)]  # as if started afresh
    drop_privileges()
    # numpy's global generator: a fresh interpreter would not repeat another worker's draws
    np.random.seed()  # noqa: NPY002
    fpguard.install()
    inp = os.fdopen(to_worker, "rb", buffering=0)
    out = os.fdopen(from_worker, "wb", buffering=0)
    Worker().serve(inp, out)


def _close_all_but(*kept):
    bounds = [-1, *sorted(set(kept)), os.sysconf("SC_OPEN_MAX")]
    for low, high in zip(bounds, bounds[1:], strict=False):
        if low + 1 < high:  # os.closerange(n, n) would close everything from n on
            os.closerange(low + 1, high)


def spawn(request, fds):
    """Fork the child that builds the worker; returns ``None`` or why it failed.

    That child stays as the worker's watcher, outside the sandbox's PID namespace (so the
    student's code cannot see it): when the worker ends, it kills the sandbox's first process,
    which takes with it everything the worker left running, as when the worker itself is a
    sandbox's first process."""
    errors_r, errors_w = os.pipe()
    if os.fork() != 0:
        os.close(errors_w)
        with os.fdopen(errors_r, "rb") as errors:
            said = errors.read().decode(errors="replace")
        return None if said == "ok" else (said or "the spawning process died")
    try:
        name_process("ll-watcher")
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(errors_r)
        _enter_sandbox(request, fds)
        worker = os.fork()
        if worker == 0:
            try:
                os.close(errors_w)
                _become_worker(request, fds)
            except BaseException:  # noqa: BLE001  (on the output pipe, once it is stderr)
                traceback.print_exc()
            finally:
                os._exit(0)
        os.write(errors_w, b"ok")
        sandbox_init = fds[11]
        _close_all_but(sandbox_init)  # the zygote's socket too: its end closes when it dies
        os.waitpid(worker, 0)
        with contextlib.suppress(ProcessLookupError):  # the sandbox was killed first
            signal.pidfd_send_signal(sandbox_init, signal.SIGKILL)
    except BaseException as exc:  # noqa: BLE001
        with contextlib.suppress(OSError):  # closed once the worker was started
            os.write(errors_w, f"{type(exc).__name__}: {exc}".encode()[:2000])
    finally:
        os._exit(0)


def serve(sock):
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 32)
        except OSError:
            return
        if not message:
            return
        try:
            why = spawn(json.loads(message), fds)
        except Exception as exc:  # noqa: BLE001
            why = f"{type(exc).__name__}: {exc}"
        finally:
            for fd in fds:
                os.close(fd)
        reply = {"ok": True} if why is None else {"error": why}
        sock.sendall(json.dumps(reply).encode())


def main():
    name_process("ll-zygote")
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        for module in sys.argv[2:]:
            importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001  (said to the grading process, which starts afresh)
        sock.sendall(json.dumps({"error": f"importing: {type(exc).__name__}: {exc}"}).encode())
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the watchers (see spawn) reap themselves
    gc.collect()
    gc.freeze()  # the imported modules stay shared with every worker, never copied by a sweep
    sock.sendall(b'{"ready": true}')
    serve(sock)


if __name__ == "__main__":
    main()
