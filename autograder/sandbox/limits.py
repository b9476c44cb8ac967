"""Resource limits: ``Limits`` of one sandbox (memory, CPU seconds, file and home sizes,
processes, output and message sizes, restarts, the time budget of one submission), and
``cap_own_memory`` for the grading process itself."""

from __future__ import annotations

import resource
from dataclasses import dataclass


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


def cap_own_memory(max_bytes: int) -> None:
    """Limit the address space of the calling (grading) process to ``max_bytes``, so that
    nothing a submission sends can make it take the host's memory. For pool initializers and
    command-line entry points; never lowers an existing tighter limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
