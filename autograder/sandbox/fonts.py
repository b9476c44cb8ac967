"""Matplotlib's font list, made once for every sandbox.

A sandbox's ``/tmp`` (matplotlib's configuration directory there) starts empty, so the first
plot of every notebook would scan the system's fonts again (about 0.1 s per submission).
``font_list`` makes the list once per user and Python environment, in a directory only this
user may write, and the sandbox gets the file read-only at the place matplotlib looks for it.
Where it cannot be made (no matplotlib, an unsafe directory), the sandbox simply scans.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_made: dict[str, Path | None] = {}


def font_list() -> Path | None:
    """The ``fontlist-*.json`` matplotlib writes, for this Python environment; None if none."""
    with _lock:
        if "path" not in _made:
            _made["path"] = _make()
        return _made["path"]


def _private_dir() -> Path | None:
    root = Path(tempfile.gettempdir()) / f"layerlab-fonts-{os.getuid()}"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(root)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
    return root if private and not info.st_mode & 0o077 else None


def _make() -> Path | None:
    if importlib.util.find_spec("matplotlib") is None:
        return None
    root = _private_dir()
    if root is None:
        return None
    version = importlib.metadata.version("matplotlib")
    key = f"{sys.executable}\0{version}".encode()
    folder = root / hashlib.sha256(key).hexdigest()[:16]
    found = sorted(folder.glob("fontlist-*.json")) if folder.is_dir() else []
    if not found:
        folder.mkdir(exist_ok=True)
        env = {**os.environ, "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg"}
        try:
            subprocess.run(
                [sys.executable, "-c", "import matplotlib.font_manager"],
                env=env, capture_output=True, timeout=120, check=True,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        found = sorted(folder.glob("fontlist-*.json"))
    if not found:
        return None
    found[-1].chmod(0o644)
    return found[-1]
