"""nbgrader integration: ``nbgrader autograde`` records the judge's verdicts.

``configure(c)`` (called from the course's ``nbgrader_config.py``) replaces nbgrader's
in-kernel execution with ``JudgeVerdicts``: the submitted file is judged in the sandbox (or
its cached report from ``python -m autograder grade`` is reused) and each graded test cell's
outputs become the verdict, which ``SaveAutoGrades`` turns into exactly the judge's score.
Student code therefore never runs in nbgrader's process or kernel.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode


class JudgeVerdicts(Preprocessor):
    enabled = Bool(True).tag(config=True)
    mode = Unicode("all", help="'all' runs every cell; 'definitions' only definitions").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        from autograder.autograded import verdict_outputs
        from autograder.course import Course
        from autograder.grading import report_for
        from autograder.suites import ASSIGNMENTS

        info = resources.get("nbgrader", {})
        assignment, student = info.get("assignment"), info.get("student")
        if assignment not in ASSIGNMENTS:
            return nb, resources
        course = Course.find(Path(self.config.CourseDirectory.root or Path.cwd()))
        graded = course.assignment(assignment)
        sub = graded.submissions([student]).get(student)
        if sub is None:
            return nb, resources
        data = report_for(graded, sub, self.mode)
        by_test = {t["id"]: t for t in data["tests"]}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and meta.get("grade_id") in by_test:
                cell.outputs = verdict_outputs(by_test[meta["grade_id"]])
        return nb, resources


class TrustReleaseMetadata(Preprocessor):
    """Each cell's nbgrader metadata taken from the release, never from the student: a cell
    whose ``grade_id`` the release has (first occurrence, same cell type) gets the release's
    metadata; any other cell loses its own. Forged, duplicated or edited metadata (which makes
    nbgrader stop the whole run) then concerns that student's cells only."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.course import Course
        from autograder.suites import ASSIGNMENTS

        assignment = resources.get("nbgrader", {}).get("assignment")
        if assignment not in ASSIGNMENTS:
            return nb, resources
        course = Course.find(Path(self.config.CourseDirectory.root or Path.cwd()))
        release = nbformat.read(course.assignment(assignment).release_notebook, as_version=4)
        trusted = {
            cell.metadata["nbgrader"]["grade_id"]: cell
            for cell in release.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")
        }
        for cell in nb.cells:
            meta = cell.metadata.pop("nbgrader", None)
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            source = trusted.pop(grade_id, None) if isinstance(grade_id, str) else None
            if source is not None and source.cell_type == cell.cell_type:
                cell.metadata["nbgrader"] = copy.deepcopy(source.metadata["nbgrader"])
        return nb, resources


def configure(c) -> None:
    """Swap nbgrader's Execute step for the judge (keeps the rest of its grading pass), and
    take every cell's nbgrader metadata from the release before nbgrader reads it."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    c.Autograde.sanitize_preprocessors = [
        TrustReleaseMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]

    c.Autograde.autograde_preprocessors = [
        JudgeVerdicts,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
