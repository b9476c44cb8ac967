"""Starting the worker in a sandbox and talking to it.

``WorkerClient`` is the grading process's side of the channel and implements the ``Student``
protocol of ``autograder.suite``. The worker runs under bubblewrap when it is usable here:
read-only system and Python environment, a size-limited tmpfs as its home holding only the
submission, no network, its own PID namespace, an unprivileged user id. Where the host allows
it, the whole sandbox also lives in its own cgroup (memory, process count, one CPU; see
``Cgroup``). Always: resource limits per process, a scrubbed environment, a
wall-clock limit per test and per submission, a cap on worker restarts, a cap on captured
output and on every reply, and every process killed at the end.

Without a usable bubblewrap, ``start_sandboxed`` refuses (``SandboxUnavailable``) unless
``Limits.allow_unsandboxed``: grading other people's code fails closed.
"""

from __future__ import annotations

import math
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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
MARKER_VARIABLE = "LAYERLAB_SANDBOX_ID"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox. ``allow_unsandboxed`` lets code run without bubblewrap
    (with a loud warning): True for ``judge`` on one's own file, False for grading a class."""

    memory_bytes: int = 2 * 1024**3
    cpu_seconds_per_test: int = 60
    load_seconds: float = 300.0
    file_bytes: int = 64 * 1024**2
    home_bytes: int = 256 * 1024**2
    processes: int = 64
    cpus: float = 1.0
    output_bytes: int = 64 * 1024
    message_bytes: int = 64 * 1024**2
    header_bytes: int = 8 * 1024**2
    max_restarts: int = 3
    submission_seconds: float = 900.0
    allow_unsandboxed: bool = True


# ----------------------------------------------------------------------------- bubblewrap


class SandboxUnavailable(Exception):
    """Bubblewrap is missing or unusable and running without it was not allowed."""


_probe: dict[str, str | None] = {}
_probe_lock = threading.Lock()


def _find_bwrap() -> tuple[str | None, str | None]:
    """``(path, None)`` when bubblewrap works here, else ``(None, why)``; tried once."""
    if os.environ.get("LAYERLAB_NO_BWRAP"):
        return None, "missing"
    with _probe_lock:
        if "path" not in _probe:
            _probe["path"], _probe["why"] = _try_bwrap()
    return _probe["path"], _probe["why"]


def _try_bwrap() -> tuple[str | None, str | None]:
    found = shutil.which("bwrap")
    if not found or not sys.platform.startswith("linux"):
        return None, "missing"
    cmd = _bwrap_base(found, 1024**2) + ["--clearenv", sys.executable, "-c", "pass"]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"unusable: {exc}"
    if run.returncode != 0:
        detail = run.stderr.decode(errors="replace").strip().splitlines()
        return None, "unusable: " + (detail[-1] if detail else f"exit status {run.returncode}")
    return found, None


def bwrap_path() -> str | None:
    """The bubblewrap binary when it is installed and usable here, else None."""
    return _find_bwrap()[0]


def sandbox_problem() -> str | None:
    """None when bubblewrap works; else one sentence saying what is wrong and how to fix it."""
    path, why = _find_bwrap()
    if path:
        return None
    if why == "missing":
        return (
            "bubblewrap (bwrap) is not installed, so student code cannot be isolated from the "
            "course files, the network and other processes: install it with `apt-get install "
            "bubblewrap` (or `make system-deps`), or pass --no-sandbox to grade without isolation."
        )
    return (
        f"bubblewrap (bwrap) is installed but cannot start a sandbox here ({why}), so student "
        "code cannot be isolated: enable unprivileged user namespaces or run the grader as root "
        "(see `make system-deps`), or pass --no-sandbox to grade without isolation."
    )


def require_sandbox() -> None:
    """Raise ``SandboxUnavailable`` (with a sentence naming the fix) unless bubblewrap works."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)


def sandbox_warning() -> str | None:
    """The warning for a report graded without bubblewrap, or None."""
    problem = sandbox_problem()
    if problem is None:
        return None
    return (
        "student code ran WITHOUT filesystem, network and process isolation (resource limits "
        "still applied): " + problem
    )


def _ancestor_dirs(path: Path) -> list[str]:
    return [str(p) for p in reversed(path.parents) if str(p) != "/"]


def _bwrap_base(bwrap: str, home_bytes: int) -> list[str]:
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
    cmd += ["--perms", "1777", "--size", str(home_bytes), "--tmpfs", SANDBOX_HOME]
    return cmd


def bwrap_command(
    bwrap: str, env: dict[str, str], home_bytes: int, file_fds: dict[str, int] | None = None
) -> list[str]:
    """The bubblewrap command line that runs the worker with a fresh tmpfs of ``home_bytes``
    as its home (and only writable directory), the files ``{name: open fd}`` copied into it
    read-only, and ``env`` as its whole environment."""
    cmd = _bwrap_base(bwrap, home_bytes)
    for name, fd in (file_fds or {}).items():
        cmd += ["--perms", "0444", "--file", str(fd), f"{SANDBOX_HOME}/{name}"]
    cmd += ["--chdir", SANDBOX_HOME, "--clearenv"]
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


# ----------------------------------------------------------------------------- one sandbox


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
) -> Sandbox:
    """Start ``python -m MODULE ARGS...`` from the worker package in a sandbox whose home (and
    working directory) holds copies of ``files`` (``{name in the home: host path}``). Its
    output (stdout and stderr together) is a pipe; it leads its own process group. Raises
    ``SandboxUnavailable`` when bubblewrap is not usable and ``limits.allow_unsandboxed`` is
    False."""
    bwrap = bwrap_path()
    if bwrap is None and not limits.allow_unsandboxed:
        require_sandbox()
    uid = _sandbox_uid() if (bwrap and os.getuid() == 0) else None
    marker = f"{os.getpid()}-{time.monotonic_ns()}-{os.urandom(4).hex()}"
    env = worker_environment(uid, limits.processes)
    env.update(extra_env or {})
    env[MARKER_VARIABLE] = marker
    argv = [sys.executable, "-m", *module_args]
    cgroup = create_cgroup(marker, limits.memory_bytes, limits.processes, limits.cpus)
    home, opened = None, []
    try:
        if bwrap:
            for path in (files or {}).values():
                opened.append(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC))
            file_fds = dict(zip(files or {}, opened, strict=True))
            cmd = bwrap_command(bwrap, env, limits.home_bytes, file_fds) + argv
            cwd, popen_env = None, {"PATH": "/usr/bin:/bin"}
        else:
            home = Path(tempfile.mkdtemp(prefix="layerlab-sandbox-"))
            for name, path in (files or {}).items():
                _copy_regular(path, home / name)
            cmd, cwd, popen_env = argv, str(home), dict(env)
            popen_env["HOME"] = str(home)
            popen_env["PYTHONPATH"] = str(_unsandboxed_path())
        cpu = int(cpu_seconds if cpu_seconds is not None else limits.load_seconds + 30)
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


def _child_setup(limits: Limits, cpu_seconds: int, cgroup: Cgroup | None) -> None:
    if cgroup is not None:
        cgroup.enter()
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


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


def remove_tree(path: Path | str) -> None:
    """Remove ``path`` and everything under it, however deep, without following links and
    without ever raising (what cannot be removed, e.g. a busy mount, is left)."""
    path = os.fspath(path)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
        top = os.open(path, _DIR_FLAGS)
    except OSError:
        return
    _make_writable(top)
    # Depth first with an explicit stack (no recursion) and names relative to an open parent
    # (no path longer than one name). At most _OPEN_DIRS descriptors stay open: a deeper
    # parent is closed and found again later as ".." of its child.
    stack: list[list] = [[top, None, _names(top)]]  # [fd or None, name in parent, to visit]
    while stack:
        entry = stack[-1]
        fd, _, names = entry
        if not names:
            stack.pop()
            if stack and stack[-1][0] is None:
                stack[-1][0] = _open_parent(fd)
            os.close(fd)
            if stack and stack[-1][0] is not None:
                _ignore(os.rmdir, entry[1], dir_fd=stack[-1][0])
            continue
        name = names.pop()
        try:
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
        except OSError:
            continue
        if not stat.S_ISDIR(mode):
            _ignore(os.unlink, name, dir_fd=fd)
            continue
        if mode & 0o700 != 0o700:  # a directory its owner locked: unlock it to list and empty
            _ignore(os.chmod, name, stat.S_IMODE(mode) | 0o700, dir_fd=fd)
        try:
            sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            continue
        stack.append([sub, name, _names(sub)])
        if len(stack) > _OPEN_DIRS and stack[-_OPEN_DIRS - 1][0] is not None:
            os.close(stack[-_OPEN_DIRS - 1][0])
            stack[-_OPEN_DIRS - 1][0] = None
    _ignore(os.rmdir, path)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIRS = 64


def _names(fd: int) -> list[str]:
    try:
        return os.listdir(fd)
    except OSError:
        return []


def _open_parent(fd: int) -> int | None:
    try:
        return os.open("..", _DIR_FLAGS, dir_fd=fd)
    except OSError:
        return None


def _ignore(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except OSError:
        pass


def _make_writable(fd: int) -> None:
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:
            os.chmod(fd, stat.S_IMODE(mode) | 0o700)
    except OSError:
        pass


# ----------------------------------------------------------------------------- cgroups


class Cgroup:
    """One sandbox's control group (v1 or v2): a memory limit for all its processes
    together, a process-count limit, a CPU quota; ``kill_all`` reaches detached processes."""

    def __init__(self, dirs: dict[str, Path], version: int):
        self.dirs = dirs  # controller ("memory", "pids", "cpu"; "" on v2) -> directory
        self.version = version

    def enter(self) -> None:
        """Move the calling process into the group (runs in the child before exec)."""
        for path in self.dirs.values():
            with open(path / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs.values():
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> None:
        for _ in range(200):  # a fork bomb may fork while being killed; pids.max bounds it
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                _ignore(os.kill, pid, signal.SIGKILL)
            time.sleep(0.01)

    def peak_memory(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        path = self.dirs.get("memory" if self.version == 1 else "")
        try:
            return int((path / name).read_text()) if path else None
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        self.kill_all()
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


_cgroup_state: dict[str, object] = {}
CGROUP_ROOT = Path("/sys/fs/cgroup")


def create_cgroup(name: str, memory_bytes: int, processes: int, cpus: float) -> Cgroup | None:
    """A new cgroup under this process's own, with the limits set; None (said once per
    process, on stderr) where the host does not allow it."""
    if os.environ.get("LAYERLAB_NO_CGROUP"):
        return None
    try:
        group = _make_cgroup(f"layerlab-{name}", memory_bytes, processes, cpus)
    except OSError as exc:
        if not _cgroup_state.get("said"):
            _cgroup_state["said"] = True
            print(
                f"layerlab: no cgroup for sandboxes here ({exc.strerror or exc}); memory, "
                "process and CPU limits apply per process only.",
                file=sys.stderr,
            )
        return None
    return group


def _own_cgroups() -> dict[str, str]:
    """Controller -> this process's cgroup path, from /proc/self/cgroup ("" for v2)."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            own[c] = path
    return own


def _make_cgroup(name: str, memory_bytes: int, processes: int, cpus: float) -> Cgroup:
    own = _own_cgroups()
    period = 100_000
    quota = str(max(1000, int(cpus * period)))
    settings = {
        "memory": {"memory.limit_in_bytes": str(memory_bytes)},
        "pids": {"pids.max": str(processes)},
        "cpu": {"cpu.cfs_period_us": str(period), "cpu.cfs_quota_us": quota},
    }
    if all(c in own and (CGROUP_ROOT / c).is_dir() for c in settings):
        version, dirs = 1, {c: CGROUP_ROOT / c / own[c].lstrip("/") / name for c in settings}
    elif "" in own and (CGROUP_ROOT / "cgroup.controllers").exists():
        version, dirs = 2, {"": CGROUP_ROOT / own[""].lstrip("/") / name}
        settings = {"": {"memory.max": str(memory_bytes), "memory.swap.max": "0",
                         "pids.max": str(processes), "cpu.max": f"{quota} {period}"}}  # fmt: skip
    else:
        raise OSError(0, "no memory, pids and cpu controllers mounted")
    made = Cgroup({}, version)
    try:
        for key, path in dirs.items():
            path.mkdir()
            made.dirs[key] = path
            for file, value in settings[key].items():
                target = path / file
                if file == "memory.swap.max" and not target.exists():
                    continue
                target.write_text(value)
    except OSError:
        made.remove()
        raise
    return made


def cap_own_memory(max_bytes: int) -> None:
    """Limit the address space of the calling (grading) process to ``max_bytes``, so that
    nothing a submission sends can make it take the host's memory. For pool initializers and
    command-line entry points; never lowers an existing tighter limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


# ----------------------------------------------------------------------------- the client


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
}


class WorkerClient:
    """The grading side of one sandboxed worker holding one submission's code.

    ``last_call_seconds`` is the CPU time (seconds, measured in the student's process) of the
    last ``call``; ``restarts`` counts workers started again after one died."""

    def __init__(self, submission: Path, cells: list[str], mode: str, limits: Limits):
        self.submission = submission
        self.cells = cells
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
        reply = self._request({"op": "load", "cells": self.cells, "mode": self.mode})
        self.load_problems = [p for p in reply["problems"] if isinstance(p, dict)]
        self.names = {n for n in reply["names"] if isinstance(n, str)}

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
        name = target if isinstance(target, str) else f"{target[0].type_name}.{target[1]}"
        wire_target = target if isinstance(target, str) else [_ref(target[0]), target[1]]
        self.last_call_seconds = None
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

    def attr(self, handle: Handle, name: str):
        message = {"op": "attr", "handle": _ref(handle), "name": name}
        return self._request(message, during=f"reading {handle.type_name}.{name}")["value"]

    def assign(self, handle: Handle, path, value) -> None:
        message = {"op": "assign", "handle": _ref(handle), "path": list(path), "value": value}
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
        op = message["op"]
        self._send(message)
        reply = self._receive(during)
        if "ended" in reply:
            self.in_test = False
            raise _ended_problem(reply, during, self.limits)
        if reply.get("seq") != self._seq:
            raise self._broken(during, "a reply to a request that was not made")
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, dict):
                raise self._broken(during, "an error reply without a description")
            raise _raised_problem(error, during, self.limits)
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


def has_non_finite(value, depth: int = 0) -> bool:
    """Whether a returned value holds NaN or an infinity anywhere (a stability test's own
    observation, independent of anything the student's process reports)."""
    import numpy as np

    if depth > 50:
        return False
    if isinstance(value, float | complex | np.floating | np.complexfloating):
        return not np.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return not bool(np.isfinite(value).all())
    if isinstance(value, list | tuple):
        return any(has_non_finite(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(has_non_finite(v, depth + 1) for v in value.values())
    return False


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
    kind, message = str(error.get("type", "Exception")), str(error.get("message", ""))[:500]
    where = f" ({str(error['where'])[:100]})" if error.get("where") else ""
    if kind == "NotImplementedError":
        return StudentRaised(f"{during} is not implemented yet (it raises NotImplementedError).")
    if kind == "MemoryError":
        gib = limits.memory_bytes / 1024**3
        return WorkerKilled(f"{during} ran out of memory (limit {gib:g} GiB){where}.")
    return StudentRaised(f"{during} raised {kind[:100]}: {message}{where}")


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
        known = isinstance(sig, int) and sig in signal.Signals._value2member_map_
        name = signal.Signals(sig).name if known else str(sig)[:20]
        return WorkerKilled(f"the process running {during} was killed by signal {name}.")
    return StudentRaised(
        f"{during} ended the Python process (exit status {str(reply.get('code'))[:20]}); graded "
        "code must not call exit()."
    )
