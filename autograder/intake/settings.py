"""The course's intake settings (``Settings``, read by ``course_settings`` from its
``nbgrader_config.py``).

The file-name pattern is ``c.FileNameCollectorPlugin.named_regexp`` (and the extensions
``c.FileNameCollectorPlugin.valid_ext``) of the course's ``nbgrader_config.py``, matched as
``zip_collect`` matches it: against a path ending in ``/<entry name>``. Groups used:
``student_id`` and ``file_id`` (required); optional ``last_name`` (Canvas's ``lastfirst``),
``first_name``, ``full_name`` (Moodle), ``email``, ``late`` (non-empty when the LMS marked
the file late), ``lms_user_id`` (defaults to the student id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograder.judge import UsageError


@dataclass(frozen=True)
class Settings:
    """What the course's ``nbgrader_config.py`` says about intake."""

    root: Path
    named_regexp: str
    valid_ext: tuple[str, ...]
    submitted: Path
    db_url: str
    config: object  # traitlets Config, for nbgrader's plugins

    def folder(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment


def course_settings(root: Path) -> Settings:
    """Read the intake settings from ``root/nbgrader_config.py`` (nbgrader's own config)."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise UsageError(f"{root} is not a course directory (no nbgrader_config.py).")
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception as exc:  # noqa: BLE001  (any error in the instructor's Python file)
        raise UsageError(f"{root / 'nbgrader_config.py'} cannot be loaded: {exc}") from exc
    plugin = config.FileNameCollectorPlugin
    regexp = plugin.get("named_regexp", "")
    if not regexp:
        raise UsageError(
            "c.FileNameCollectorPlugin.named_regexp is not set in nbgrader_config.py; it is the "
            "file-name pattern of the LMS download."
        )
    try:
        compiled = re.compile(regexp)
    except re.error as exc:
        raise UsageError(f"c.FileNameCollectorPlugin.named_regexp is not a regex: {exc}.") from exc
    if not {"student_id", "file_id"} <= set(compiled.groupindex):
        raise UsageError(
            "c.FileNameCollectorPlugin.named_regexp must have the groups (?P<student_id>...) "
            "and (?P<file_id>...)."
        )
    exts = tuple(e.lower() for e in plugin.get("valid_ext", [".ipynb"]))
    coursedir = config.CourseDirectory
    submitted = root / coursedir.get("submitted_directory", "submitted")
    db_url = coursedir.get("db_url", f"sqlite:///{root / 'gradebook.db'}")
    return Settings(root, regexp, exts, submitted, db_url, config)
