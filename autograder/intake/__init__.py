"""Taking in an LMS download: one zip of per-student files in, nbgrader's own layout out.

Where each part lives:

- ``collection``: ``collect`` (the whole intake of one download), ``describe`` (its console
  text), ``parse_due``.
- ``settings``: ``course_settings`` (the file-name pattern and folders of the course).
- ``archive``: reading the zip safely (``Limits``, ``open_archive``, ``plan``, ``extract``,
  ``entry_time``).
- ``submissions``: ``pick_submission`` (the file to grade) and installing each student's
  current file, older ones kept in ``KEPT_DIR``.
- ``manifest``: the intake manifest (``manifest_path``, ``load_manifest``).
- ``gradebook``: names, times, the due date and late penalties in nbgrader's gradebook
  (``open_gradebook``, ``record_intake``, ``late_penalty_plugin``, ``apply_late_penalty``).
- ``files``: file and folder modes, ``write_timestamp``; ``text``: how names, sizes and times
  are written.
"""

from autograder.intake.archive import (
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    Limits,
    Upload,
    entry_time,
    extract,
    open_archive,
    plan,
)
from autograder.intake.collection import collect, describe, parse_due
from autograder.intake.files import DIR_MODE, FILE_MODE, write_timestamp
from autograder.intake.gradebook import (
    apply_late_penalty,
    late_penalty_plugin,
    open_gradebook,
    record_intake,
)
from autograder.intake.manifest import MANIFEST_DIR, load_manifest, manifest_path
from autograder.intake.settings import Settings, course_settings
from autograder.intake.submissions import KEPT_DIR, Candidate, Picked, pick_submission

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "KEPT_DIR",
    "MANIFEST_DIR",
    "MAX_ENTRIES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "Candidate",
    "Limits",
    "Picked",
    "Settings",
    "Upload",
    "apply_late_penalty",
    "collect",
    "course_settings",
    "describe",
    "entry_time",
    "extract",
    "late_penalty_plugin",
    "load_manifest",
    "manifest_path",
    "open_archive",
    "open_gradebook",
    "parse_due",
    "pick_submission",
    "plan",
    "record_intake",
    "write_timestamp",
]
