"""The per-sandbox control group (v1 or v2) where the host allows one: one memory limit
for all the sandbox's processes together, a process-count limit, a CPU quota, its peak
memory, and a way to kill every process in it (``Cgroup``, ``create_cgroup``). The host's
cgroup file system is at ``CGROUP_ROOT``."""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import suppress
from pathlib import Path


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
                with suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
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


def _sweep_stale(parent: Path) -> None:
    """Once per process and parent: remove the empty sandbox groups left by grading processes
    that no longer run (killed before they could clean up). A group is named after the
    process that made it (``layerlab-<pid>-...``); one whose process lives, or that still
    holds a process, is left alone (the kernel refuses to remove a group in use anyway)."""
    swept = _cgroup_state.setdefault("swept", set())
    if parent in swept:
        return
    swept.add(parent)
    try:
        entries = list(parent.glob("layerlab-*"))
    except OSError:
        return
    for entry in entries:
        pid = entry.name.split("-")[1]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with suppress(OSError):
            entry.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


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
    for path in dirs.values():
        _sweep_stale(path.parent)
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
