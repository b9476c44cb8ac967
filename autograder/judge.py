"""The judge: one submission in, one report out, nothing written anywhere.

The submission's code runs in a sandboxed worker (``autograder.sandbox``); this process holds
the hidden tests, draws their inputs from the seed, and decides every verdict. Each test is
served by a fresh fork of the loaded submission, so a crash, hang or resource kill costs only
that test.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import Limits, WorkerClient, require_sandbox, sandbox_warning
from autograder.submission import (
    Submission,
    SubmissionError,
    infer_assignment,
    read_submission,
)
from autograder.suite import (
    MissingFunction,
    StudentCodeProblem,
    Suite,
    TestResult,
    run_test,
)
from autograder.suites import ASSIGNMENTS, available_suites, load_suite

MODES = ("all", "definitions")


@dataclass
class Report:
    assignment: str
    submission: str
    seed: int
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unreadable: str | None = None  # why the file could not be read (then no test ran)
    # Measurements for the instructor, not part of the report's JSON: the most memory the
    # sandbox held at once (bytes, when a cgroup measured it) and workers started again.
    sandbox_peak_bytes: int | None = None
    restarts: int = 0

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)

    def as_dict(self) -> dict:
        return {
            "assignment": self.assignment,
            "submission": self.submission,
            "seed": self.seed,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [t.as_dict() for t in self.tests],
            "notes": list(self.notes),
            **({"unreadable": self.unreadable} if self.unreadable else {}),
        }


class UsageError(Exception):
    """The command was asked something impossible (unknown assignment, missing file)."""


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)


def resolve_assignment(path: Path, assignment: str | None) -> str:
    if assignment:
        if assignment not in ASSIGNMENTS:
            raise UsageError(
                f"unknown assignment {assignment!r}; expected one of: {', '.join(ASSIGNMENTS)}."
            )
        return assignment
    known = {s.assignment: s.functions for s in available_suites()}
    problem = None
    try:
        sub = read_submission(path)
    except SubmissionError as exc:  # unreadable: the file name alone may still tell
        sub, problem = Submission(path, []), exc
    guess = infer_assignment(sub, known)
    if guess is None and problem is not None:
        raise UsageError(
            f"{path} could not be read: {str(problem).rstrip('.')} (pass --assignment to get "
            "a report anyway)."
        )
    if guess is None:
        raise UsageError(
            f"cannot tell which assignment {path} answers; pass --assignment "
            f"({', '.join(known) or 'none available'})."
        )
    return guess


def judge(
    path: Path,
    assignment: str | None = None,
    seed: int | None = None,
    mode: str = "all",
    limits: Limits | None = None,
    shown_path: str | None = None,
    suite: Suite | None = None,
) -> Report:
    """Grade the submission at ``path`` and return its report (never raises for a bad
    submission; raises ``UsageError`` for a bad request, and ``SandboxUnavailable`` when
    bubblewrap is unusable and ``limits.allow_unsandboxed`` is False, before any student code
    runs). ``suite`` overrides the assignment's suite (the grader's own tests use small
    suites)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist or is not a file.")
    if suite is None:
        suite = load_suite(resolve_assignment(path, assignment))
    name = suite.assignment
    seed = new_seed() if seed is None else int(seed)
    limits = limits or Limits()
    if not limits.allow_unsandboxed:
        require_sandbox()
    report = Report(name, shown_path or str(path), seed, [])
    warning = sandbox_warning()
    if warning:
        report.notes.append("WARNING: " + warning)
    started = time.monotonic()
    try:
        sub = read_submission(path)
    except SubmissionError as exc:
        report.unreadable = str(exc)
        report.notes.append(f"Your submission could not be read: {exc}")
        report.tests = _all_tests(suite, "error", "not graded: the file could not be read.")
        report.seconds = time.monotonic() - started
        return report
    report.tests = _run_suite(suite, path, sub, seed, mode, limits, report)
    report.seconds = time.monotonic() - started
    return report


def _all_tests(suite: Suite, status: str, message: str) -> list[TestResult]:
    return [
        TestResult(t.id, list(t.functions), 0.0, t.points, status, message) for t in suite.tests
    ]


def _run_suite(suite, path, sub, seed, mode, limits, report: Report) -> list[TestResult]:
    notes = report.notes
    client = WorkerClient(path, sub.cells, mode, limits, sub.numbers)
    try:
        try:
            client.start()
        except StudentCodeProblem as exc:
            if mode == "definitions":
                return _all_tests(suite, exc.status, f"Your code could not be loaded: {exc}")
            notes.append(
                f"Running the whole notebook failed ({exc}); graded again with only its "
                "definitions (imports, functions, classes, constants)."
            )
            client.mode = "definitions"
            try:
                client.start()
            except StudentCodeProblem as exc2:
                return _all_tests(suite, exc2.status, f"Your code could not be loaded: {exc2}")
        notes.extend(_describe_load_problems(client.load_problems, sub))
        return [_run_one(spec, client, seed) for spec in suite.tests]
    finally:
        client.close()
        report.sandbox_peak_bytes = client.peak_memory
        report.restarts = client.restarts


def _run_one(spec, client: WorkerClient, seed: int) -> TestResult:
    missing = [f for f in spec.functions if not client.has(f)]
    if missing:
        exc = MissingFunction(missing[0])
        return TestResult(spec.id, list(spec.functions), 0.0, spec.points, "error", str(exc))
    try:
        client.begin_test(spec.timeout)
    except StudentCodeProblem as exc:
        return TestResult(spec.id, list(spec.functions), 0.0, spec.points, exc.status, str(exc))
    try:
        return run_test(spec, client, seed)
    finally:
        client.end_test()


def _describe_load_problems(problems: list[dict], sub: Submission) -> list[str]:
    """One note per cell that failed to load, naming the cell as JupyterLab numbers it (the
    worker was given those numbers) with the function it defines."""
    notes = []
    for p in problems[:10]:
        number = p.get("cell")
        name = sub.defined_in(number) if isinstance(number, int) else None
        cell = f"cell {number}" + (f" ({name})" if name else "")
        where = str(p.get("where") or "")
        notes.append(
            f"{cell}: {p.get('type')}: {p.get('message', '')}{f' ({where})' if where else ''} "
            "(the rest of the notebook was still run)"
        )
    if len(problems) > 10:
        notes.append(f"... and {len(problems) - 10} more cells with errors")
    return notes
