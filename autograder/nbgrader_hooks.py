"""nbgrader integration: ``nbgrader autograde`` records the judge's verdicts.

``configure(c)`` (called from the course's ``nbgrader_config.py``) replaces nbgrader's
in-kernel execution with ``JudgeVerdicts``: the submitted file is judged in the sandbox (or
its cached report from ``python -m autograder grade`` is reused) and each graded test cell's
outputs become the verdict, which ``SaveAutoGrades`` turns into exactly the judge's score.
Student code therefore never runs in nbgrader's process or kernel.
"""

from __future__ import annotations

from pathlib import Path

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


def configure(c) -> None:
    """Swap nbgrader's Execute step for the judge (keeps the rest of its grading pass)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        LimitOutput,
        SaveAutoGrades,
    )

    c.Autograde.autograde_preprocessors = [
        JudgeVerdicts,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
