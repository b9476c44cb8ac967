"""Taking in an LMS download: one zip of per-student files, collected into ``submitted/`` by
``nbgrader zip_collect`` with the file-name pattern set in ``nbgrader_config.py``."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from autograder.judge import UsageError


def collect(course, assignment: str, archive: Path) -> dict:
    """Copy ``archive`` to ``downloaded/NAME/archive/``, run ``nbgrader zip_collect`` and
    return ``{"students": [...], "skipped": [file names the pattern did not match]}``."""
    from autograder.grading import run_nbgrader

    archive = Path(archive)
    if not archive.is_file():
        raise UsageError(f"{archive} does not exist; pass the zip file downloaded from the LMS.")
    if not zipfile.is_zipfile(archive):
        raise UsageError(
            f"{archive} is not a zip archive; download the submissions as one zip file "
            "(or copy notebooks to submitted/STUDENT/NAME/ yourself)."
        )
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    if not names:
        raise UsageError(f"{archive} is empty.")
    target = course.root / "downloaded" / assignment / "archive"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(archive, target / archive.name)
    log = run_nbgrader(course, ["zip_collect", assignment, "--force"])
    students = sorted(p.parent.name for p in (course.root / "submitted").glob(f"*/{assignment}"))
    skipped = sorted(set(re.findall(r"did not match anything in: .*?([^/\s]+)\s*$", log, re.M)))
    return {"students": students, "skipped": skipped}
