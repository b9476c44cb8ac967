"""Removing a sandbox's home directory (``remove_tree``): however deep, whatever modes its
owner set, without following links and without ever raising."""

from __future__ import annotations

import os
import stat
from pathlib import Path


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
