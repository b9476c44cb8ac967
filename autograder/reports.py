"""The report store: one JSON report per student and assignment, under ``.layerlab/reports/``.

A stored report is served again only for the same submission (SHA-256 of the file), the same
mode (whole notebook or definitions only) and the same grader (a fingerprint of the hidden
suite and of every module that can change a verdict). Anything else re-judges: a fix to a
hidden test never leaves an old verdict in place.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from autograder.course import Assignment, atomic_write
from autograder.suites import ASSIGNMENTS

PACKAGE = Path(__file__).resolve().parent
LAYERLAB = PACKAGE.parent / "layerlab"


@functools.lru_cache(maxsize=16)
def grader_fingerprint(assignment: str) -> str:
    """SHA-256 over the source of the assignment's suite and of the grader and ``layerlab``
    (everything but the other assignments' suites), so any change that could alter a verdict
    changes it. Computed once per process."""
    others = {a for a in ASSIGNMENTS if a != assignment}
    files = [
        p
        for p in PACKAGE.rglob("*.py")
        if not (p.relative_to(PACKAGE).parts[0] == "suites" and _owner(p) in others)
    ]
    files += LAYERLAB.rglob("*.py")
    digest = hashlib.sha256()
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(PACKAGE.parent)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _owner(path: Path) -> str:
    """The assignment a file under ``suites/`` belongs to (its module or package name)."""
    return Path(path.relative_to(PACKAGE / "suites").parts[0]).stem


class ReportStore:
    """Reports of one assignment, keyed by student; written atomically."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        self.fingerprint = grader_fingerprint(assignment.name)

    def load(self, student: str) -> dict | None:
        try:
            data = json.loads(self.assignment.report_path(student).read_text())
        except (OSError, ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def get(self, student: str, digest: str, mode: str | None) -> dict | None:
        """The stored report of this exact file judged by this grader in ``mode`` (any mode
        when None), or None. Reports of a grader failure are never served again."""
        data = self.load(student)
        if data is None or data.get("grader_error"):
            return None
        if data.get("sha256") != digest or data.get("fingerprint") != self.fingerprint:
            return None
        return data if mode is None or data.get("mode") == mode else None

    def put(self, data: dict) -> None:
        data["fingerprint"] = self.fingerprint
        atomic_write(self.assignment.report_path(data["student"]), json.dumps(data, indent=1))
