"""A small process pool for grading trusted code: one forked child per item, a wall-clock
limit per item, a memory limit per child. A child that hangs is killed; one that dies is
reported; neither stops the others."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import resource
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MEMORY_LIMIT = 3 << 30  # bytes of address space for a child


def default_jobs() -> int:
    """Two children, or one on a single core."""
    return min(2, os.cpu_count() or 1)


def pool_map(
    work: Callable[[T], R],
    items: Sequence[T],
    failed: Callable[[T, str, str], R],
    jobs: int = 2,
    timeout: float = 120.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``[work(item) for item in items]``, ``jobs`` forked children at a time. An item whose
    child runs over ``timeout`` seconds gives ``failed(item, "timeout", why)``; one whose child
    dies or raises gives ``failed(item, "crashed", why)``. ``progress(done, total)`` is
    called after each item."""
    forking = multiprocessing.get_context("fork")
    pending = list(enumerate(items))
    running: dict[int, tuple] = {}
    results: dict[int, R] = {}
    while pending or running:
        while pending and len(running) < max(1, jobs):
            index, item = pending.pop(0)
            receive, send = forking.Pipe(duplex=False)
            process = forking.Process(target=_child, args=(send, work, item))
            process.start()
            send.close()
            running[index] = (process, receive, time.monotonic())
        ready = multiprocessing.connection.wait([r for _, r, _ in running.values()], timeout=0.5)
        now = time.monotonic()
        for index, (process, receive, started) in list(running.items()):
            if receive in ready:
                try:
                    ok, value = receive.recv()
                except EOFError:  # the child died without answering
                    ok, value = False, "the grading process died"
                results[index] = value if ok else failed(items[index], "crashed", value)
            elif now - started > timeout:
                process.kill()
                results[index] = failed(items[index], "timeout", f"over {timeout:g} s")
            else:
                continue
            process.join()
            receive.close()
            del running[index]
            if progress is not None:
                progress(len(results), len(items))
    return [results[i] for i in range(len(items))]


def _child(conn, work, item):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    warnings.simplefilter("ignore")  # a mutant's RuntimeWarnings are its own business
    try:
        message = (True, work(item))
    except BaseException as exc:  # noqa: BLE001  (MemoryError, RecursionError, ...)
        message = (False, f"{type(exc).__name__}: {exc}"[:300])
    conn.send(message)
    conn.close()
