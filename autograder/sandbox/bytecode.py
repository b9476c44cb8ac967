"""Compiled bytecode of the code every sandbox imports (the worker package and layerlab).

The sandbox may not write bytecode and this project's Python is often told not to keep any
(``PYTHONDONTWRITEBYTECODE``), so without this each sandbox would compile the same modules
again, about 40 ms per submission. ``compile_packages`` writes their ``__pycache__`` once,
on the grading side, where Python itself would have written it; the sandbox reads it through
its read-only view of the sources. Python checks each file against its source's size and
modification time, so a stale one is never used, and loads it under the path the sandbox
sees. A source tree that is not writable is simply left alone.
"""

from __future__ import annotations

import compileall
import threading
from pathlib import Path

_lock = threading.Lock()
_done: set[Path] = set()


def compile_packages(*packages: Path) -> None:
    """Write (once per process) the bytecode of every module under ``packages``."""
    with _lock:
        for package in packages:
            if package not in _done:
                _done.add(package)
                try:
                    compileall.compile_dir(package, quiet=2, workers=1)
                except OSError:
                    pass
