"""Bubblewrap: whether it works here (probed once per process), the sentence saying what to
fix when it does not (``sandbox_problem``, ``require_sandbox``, ``sandbox_warning``), and
the command line and environment the worker runs with (``bwrap_command``,
``worker_environment``): read-only system and Python environment, the worker package at
``/opt/judge/judge_worker`` and layerlab at ``/opt/judge/layerlab``, a size-limited tmpfs as
its home, no network, its own PID namespace."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import threading
from pathlib import Path

from autograder.sandbox.bytecode import compile_packages
from autograder.sandbox.fonts import font_list

# autograder/sandbox/bwrap.py -> autograder/worker and <repository>/layerlab
WORKER_PACKAGE = Path(__file__).resolve().parents[1] / "worker"
LAYERLAB_PACKAGE = Path(__file__).resolve().parents[2] / "layerlab"
SANDBOX_HOME = "/sandbox"
PACKAGES_ROOT = "/opt/judge"  # where a sandbox imports the worker package and layerlab from
PACKAGE_MOUNTS = {WORKER_PACKAGE: f"{PACKAGES_ROOT}/judge_worker",
                  LAYERLAB_PACKAGE: f"{PACKAGES_ROOT}/layerlab"}  # fmt: skip
MARKER_VARIABLE = "LAYERLAB_SANDBOX_ID"


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
        "--proc", "/proc", "--dev", "/dev",
        # writable by the unprivileged worker (matplotlib's cache lives there), size-limited
        "--perms", "1777", "--size", str(home_bytes), "--tmpfs", "/tmp",
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
    ro.update({str(package): mount for package, mount in PACKAGE_MOUNTS.items()})
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
    compile_packages(WORKER_PACKAGE, LAYERLAB_PACKAGE)
    cmd = _bwrap_base(bwrap, home_bytes)
    for name, fd in (file_fds or {}).items():
        cmd += ["--perms", "0444", "--file", str(fd), f"{SANDBOX_HOME}/{name}"]
    return cmd + ["--chdir", SANDBOX_HOME, *_fonts_and_environment(env)]


def zygote_command(bwrap: str, env: dict[str, str]) -> list[str]:
    """The bubblewrap options for a zygote (``judge_worker.zygote``): the host read-only, the
    worker package and layerlab where sandboxes see them, a /tmp of its own, ``env`` as its
    whole environment, and every capability, since it joins other sandboxes' namespaces. It
    never runs student code."""
    compile_packages(WORKER_PACKAGE, LAYERLAB_PACKAGE)
    cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/opt"]
    for package, mount in PACKAGE_MOUNTS.items():
        cmd += ["--ro-bind", str(package), mount]
    cmd += ["--perms", "1777", "--tmpfs", "/tmp"]
    for prefix in dict.fromkeys((sys.base_prefix, sys.prefix)):
        cmd += ["--ro-bind", prefix, prefix]  # again, when under the new /tmp
    cmd += ["--cap-add", "ALL", "--die-with-parent", "--new-session", "--chdir", "/"]
    return cmd + _fonts_and_environment(env)


def _fonts_and_environment(env: dict[str, str]) -> list[str]:
    """matplotlib's font list where ``env`` makes it look, and ``env`` as the whole
    environment."""
    args = []
    fonts = font_list()
    if fonts is not None and env.get("MPLCONFIGDIR") == "/tmp":
        args += ["--ro-bind", str(fonts), f"/tmp/{fonts.name}"]
    args.append("--clearenv")
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def sandbox_python_path() -> str:
    """``PYTHONPATH`` in a sandbox: the worker package and layerlab, then the environment's
    packages (the worker runs ``python -S``: no site module, whose .pth files cost a start-up)."""
    return ":".join([PACKAGES_ROOT, *site.getsitepackages()])


def worker_environment(uid: int | None, processes: int) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": SANDBOX_HOME,
        "PYTHONPATH": PACKAGES_ROOT,
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
