"""One running sandbox: ``start_sandboxed`` starts a worker module under bubblewrap (or,
when allowed, without it in a temporary home) with per-process resource limits, a scrubbed
environment and its own cgroup where the host allows one; ``Sandbox`` kills all its
processes (detached ones included) and removes what it made; ``kill_group`` kills one
process group."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.bwrap import (
    LAYERLAB_PACKAGE,
    MARKER_VARIABLE,
    SANDBOX_HOME,
    WORKER_PACKAGE,
    bwrap_command,
    bwrap_path,
    require_sandbox,
    sandbox_python_path,
    worker_environment,
)
from autograder.sandbox.cgroup import Cgroup, create_cgroup
from autograder.sandbox.cleanup import remove_tree
from autograder.sandbox.limits import Limits
from autograder.sandbox.zygote import (
    PLACEHOLDER,
    Zygote,
    ZygoteError,
    forget,
    read_info,
    sandbox_fds,
    wait_ready,
    zygote_for,
)


def _sandbox_uid() -> int:
    # One unprivileged id per grading process, so the process-count limit is per sandbox.
    return 40000 + os.getpid() % 20000


@dataclass
class Sandbox:
    """One running sandbox: its top process, its cgroup (or None) and, only without
    bubblewrap, the host directory serving as its home."""

    proc: subprocess.Popen
    cgroup: Cgroup | None = None
    home: Path | None = None
    marker: str = ""
    closed: bool = field(default=False, repr=False)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def peak_memory(self) -> int | None:
        """The most memory (bytes) all its processes held at once, when a cgroup measured it."""
        return self.cgroup.peak_memory() if self.cgroup else None

    def kill(self) -> None:
        """Kill every process of the sandbox, detached ones included, and reap the top one."""
        if self.cgroup is not None:
            self.cgroup.kill_all()
        kill_group(self.proc)
        if self.cgroup is None and self.home is not None:
            _kill_marked(self.marker)

    def close(self) -> None:
        """Kill everything, then remove the cgroup and the home directory (never raises)."""
        if self.closed:
            return
        self.closed = True
        self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.home is not None:
            remove_tree(self.home)


def start_sandboxed(
    module_args: list[str],
    limits: Limits,
    files: dict[str, Path] | None = None,
    pass_fds: tuple[int, ...] = (),
    cpu_seconds: float | None = None,
    extra_env: dict[str, str] | None = None,
    preload: tuple[str, ...] | None = None,
) -> Sandbox:
    """Start ``python -m MODULE ARGS...`` from the worker package in a sandbox whose home (and
    working directory) holds copies of ``files`` (``{name in the home: host path}``). Its
    output (stdout and stderr together) is a pipe; it leads its own process group. Raises
    ``SandboxUnavailable`` when bubblewrap is not usable and ``limits.allow_unsandboxed`` is
    False.

    ``preload`` (for ``judge_worker.main IN_FD OUT_FD`` only): the modules a zygote imports
    once, so that the worker is forked from it into the new sandbox instead of started afresh
    where that is possible (see ``zygote``)."""
    bwrap = bwrap_path()
    if bwrap is None and not limits.allow_unsandboxed:
        require_sandbox()
    uid = _sandbox_uid() if (bwrap and os.getuid() == 0) else None
    marker = f"{os.getpid()}-{time.monotonic_ns()}-{os.urandom(4).hex()}"
    env = worker_environment(uid, limits.processes)
    env.update(extra_env or {})
    env[MARKER_VARIABLE] = marker
    if bwrap:
        env["PYTHONPATH"] = sandbox_python_path()
    argv = [sys.executable, "-m", *module_args]
    cpu = int(cpu_seconds if cpu_seconds is not None else limits.load_seconds + 30)
    zygote = zygote_for(bwrap, preload) if preload else None
    if zygote is not None:
        try:
            return _start_preloaded(zygote, module_args, env, limits, files, cpu, marker)
        except ZygoteError as exc:
            forget(preload)
            print(f"layerlab: a fresh worker instead of a preloaded one ({exc})", file=sys.stderr)
    cgroup = create_cgroup(marker, limits.memory_bytes, limits.processes, limits.cpus)
    home, opened = None, []
    try:
        if bwrap:
            cmd = bwrap_command(bwrap, env, limits.home_bytes, _open_files(files, opened))
            cmd += [sys.executable, "-S", *argv[1:]]
            cwd, popen_env = None, {"PATH": "/usr/bin:/bin"}
        else:
            home = Path(tempfile.mkdtemp(prefix="layerlab-sandbox-"))
            for name, path in (files or {}).items():
                _copy_regular(path, home / name)
            cmd, cwd, popen_env = argv, str(home), dict(env)
            popen_env["HOME"] = str(home)
            popen_env["PYTHONPATH"] = str(_unsandboxed_path())
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=popen_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(*pass_fds, *opened),
            preexec_fn=lambda: _child_setup(limits, cpu, cgroup),
            start_new_session=True,
        )
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        if home is not None:
            remove_tree(home)
        raise
    finally:
        for fd in opened:
            os.close(fd)
    return Sandbox(proc, cgroup, home, marker)


def _start_preloaded(
    zygote: Zygote,
    module_args: list[str],
    env: dict[str, str],
    limits: Limits,
    files: dict[str, Path] | None,
    cpu: int,
    marker: str,
) -> Sandbox:
    """Bubblewrap builds the sandbox around a placeholder; the zygote forks the worker into
    it (same namespaces, root, cgroup, limits and user as a fresh start)."""
    if module_args[0] != "judge_worker.main":
        raise ZygoteError(f"{module_args[0]} is not preloaded")
    to_worker, from_worker = int(module_args[1]), int(module_args[2])
    cgroup = create_cgroup(marker, limits.memory_bytes, limits.processes, limits.cpus)
    info_r, info_w = os.pipe()
    life_r, life_w = os.pipe()
    out_r, out_w = os.pipe()
    opened, channel, proc = [], (), None
    try:
        cmd = bwrap_command(bwrap_path(), env, limits.home_bytes, _open_files(files, opened))
        proc = subprocess.Popen(
            [*cmd, "--info-fd", str(info_w), *PLACEHOLDER],
            env={"PATH": "/usr/bin:/bin"},
            stdin=life_r,
            stdout=out_w,
            stderr=out_w,
            pass_fds=(info_w, *opened),
            preexec_fn=lambda: _child_setup(limits, cpu, cgroup),
            start_new_session=True,
        )
        for fd in (info_w, life_r, *opened):
            os.close(fd)
        info_w = life_r = -1
        opened = []  # from here: what the zygote gets (the sandbox's, then the channel's)
        info_fd, info_r = info_r, -1
        child = read_info(info_fd)["child-pid"]
        wait_ready(out_r)
        opened += sandbox_fds(child)
        opened += [to_worker, from_worker, out_w, life_w, os.pidfd_open(child)]
        channel = (to_worker, from_worker, out_w, life_w)
        for path in cgroup.dirs.values() if cgroup else ():
            opened.append(os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        request = {"env": env, "rlimits": _rlimits(limits, cpu), "home": SANDBOX_HOME}
        zygote.spawn(opened, request)
    except BaseException as exc:
        if proc is not None:
            kill_group(proc)
        if cgroup is not None:
            cgroup.remove()
        os.close(out_r)
        if isinstance(exc, OSError | KeyError | TypeError | ValueError):
            raise ZygoteError(f"{type(exc).__name__}: {exc}") from exc
        raise
    finally:
        for fd in (info_r, info_w, life_r, out_w, life_w):
            if fd >= 0:
                os.close(fd)
        for fd in opened:
            if fd not in channel:
                os.close(fd)
    proc.stdout = os.fdopen(out_r, "rb")
    return Sandbox(proc, cgroup, None, marker)


def _open_files(files: dict[str, Path] | None, opened: list[int]) -> dict[str, int]:
    """``{name in the home: fd}`` of ``files`` opened read-only for bubblewrap's ``--file``;
    each fd is also appended to ``opened``, which the caller closes."""
    for path in (files or {}).values():
        opened.append(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC))
    return dict(zip(files or {}, opened, strict=True))


def _copy_regular(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a process and everything in its process group, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _kill_marked(marker: str) -> None:
    """Without a cgroup: kill every process whose environment carries ``marker`` (catches
    detached processes that kept the environment they were given)."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    for _ in range(3):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as f:
                    environ = f.read().split(b"\0")
            except OSError:
                continue
            if needle in environ:
                found = True
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def _rlimits(limits: Limits, cpu_seconds: int) -> dict[str, tuple[int, int]]:
    """The rlimits of a sandbox's processes, by ``resource`` name (soft, hard)."""
    return {
        "RLIMIT_AS": (limits.memory_bytes, limits.memory_bytes),
        "RLIMIT_FSIZE": (limits.file_bytes, limits.file_bytes),
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_CPU": (cpu_seconds, cpu_seconds + 5),
    }


def _child_setup(limits: Limits, cpu_seconds: int, cgroup: Cgroup | None) -> None:
    if cgroup is not None:
        cgroup.enter()
    for name, (soft, hard) in _rlimits(limits, cpu_seconds).items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


def _unsandboxed_path() -> Path:
    """Without bubblewrap, a directory exposing only the worker package and layerlab."""
    path = Path(tempfile.gettempdir()) / f"layerlab-judge-path-{os.getuid()}"
    path.mkdir(exist_ok=True)
    for name, src in (("judge_worker", WORKER_PACKAGE), ("layerlab", LAYERLAB_PACKAGE)):
        link = path / name
        if not link.exists():
            try:
                link.symlink_to(src)
            except FileExistsError:
                pass
    return path
