"""One submission's judging as plain data: a :class:`Task` goes to a local pool process or a
Dask worker (``autograder.cluster``), :func:`judge_task` runs it there and returns plain data.
Neither needs the course directory, and nothing here writes anything but a temporary copy of
the submission; the coordinator (``autograder.grading``) records the results.
"""

from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from autograder.course import Assignment, Course, Submitted
from autograder.judge import judge
from autograder.reports import grader_fingerprint
from autograder.sandbox import Limits, SandboxUnavailable, remove_tree, sandbox_problem


@dataclass(frozen=True)
class Task:
    """One submission's judging as it travels to a pool process or a Dask worker: plain data
    only. ``seed`` comes from the coordinator (workers never see the course's salt);
    ``fingerprint`` is the coordinator's grader (a worker running another version refuses);
    ``cached`` is the stored report when only the feedback run is needed."""

    assignment: str
    student: str
    shown: str  # the file's path in the course, e.g. "submitted/ann/a1_activations/x.ipynb"
    content: bytes
    digest: str
    seed: int
    mode: str
    limits: Limits
    fingerprint: str
    note: str | None = None
    cached: dict | None = None
    execute: bool = False


def judge_task(task: Task) -> dict:
    """Wherever tasks run (a pool process, a Dask worker): the result of ``task`` as plain
    data, one of

    - ``{"report": dict, "executed": str | None}``: the report as stored and, when
      ``task.execute``, the notebook executed in the sandbox as nbformat JSON text (None when
      its execution failed: the report's ``feedback_execution`` says why);
    - ``{"refused": sentence}``: this machine cannot judge as the coordinator would (no
      usable sandbox, or another version of the grader); nothing of the student's ran;
    - ``{"error": sentence}``: the grader itself failed on this submission.

    Needs no course directory: the file is written under a temporary directory (removed
    afterwards) laid out like the course, so the report names the file as a local run does.
    Never raises."""
    refusal = _refusal(task)
    if refusal:
        return {"refused": refusal}
    scratch = Path(tempfile.mkdtemp(prefix="layerlab-task-"))
    try:
        path = scratch / _relative(task.shown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(task.content)
        assignment = Course(scratch).assignment(task.assignment)
        sub = Submitted(task.student, path, note=task.note)
        data = dict(task.cached) if task.cached else None
        if data is None:
            data = judge_student(assignment, sub, task.mode, task.digest, task.limits,
                                 seed=task.seed)  # fmt: skip
        executed = None
        if task.execute:
            import nbformat

            from autograder.feedback import execute_for_feedback

            result = execute_for_feedback(path, replace(task.limits, processes=256))
            if result.notebook is not None:
                executed = nbformat.writes(result.notebook)
            data["feedback_execution"] = {"seconds": round(result.seconds, 3),
                                          "problem": result.problem}  # fmt: skip
        return {"report": data, "executed": executed}
    except SandboxUnavailable as exc:
        return {"refused": str(exc)}
    except Exception as exc:  # noqa: BLE001  (MemoryError and RecursionError included)
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return {"error": detail[:1000]}
    finally:
        remove_tree(scratch)


def _refusal(task: Task) -> str | None:
    """Why this machine must not judge ``task``, or None."""
    if not task.limits.allow_unsandboxed:
        problem = sandbox_problem()
        if problem:
            return problem
    try:
        mine = grader_fingerprint(task.assignment)
    except (OSError, KeyError) as exc:
        return f"the grader here cannot load assignment {task.assignment!r}: {exc}"
    if mine != task.fingerprint:
        return (
            f"the grader here is another version (fingerprint {mine}) than the coordinator's "
            f"({task.fingerprint}): install the same version of the kit on every worker."
        )
    return None


def _relative(shown: str) -> PurePosixPath:
    """``shown`` as a safe relative path (it names the file inside the temporary course)."""
    path = PurePosixPath(shown)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"the submission's path {shown!r} is not inside the course")
    return path


def judge_student(
    assignment: Assignment,
    sub: Submitted,
    mode: str,
    digest: str,
    limits: Limits | None = None,
    seed: int | None = None,
) -> dict:
    """Judge one submission and return its report as stored. ``seed`` defaults to the
    course's seed of this student and file (which needs the course's salt)."""
    if seed is None:
        seed = assignment.seed(sub.student, digest)
    shown = sub.path.relative_to(assignment.course.root).as_posix()
    report = judge(sub.path, seed=seed, mode=mode, limits=limits, shown_path=shown,
                   suite=assignment.suite)  # fmt: skip
    data = report.as_dict()
    if sub.note:
        data["notes"].insert(0, sub.note)
    data.update(student=sub.student, sha256=digest, mode=mode, seconds=round(report.seconds, 3))
    return data
