"""Grading a class: every submission under ``submitted/*/NAME/``, in parallel, into nbgrader.

A submission's judging (and, with feedback, its sandboxed notebook run) is a :class:`Task`
of plain data, run by :func:`judge_task` in a local pool process or on a Dask worker
(``autograder.cluster``); neither needs the course directory. This process alone, the
coordinator, turns results into reports and writes the report store, the gradebook, the
autograded notebooks, the CSV and the summary, as results arrive. Whatever goes wrong with
one student (their code, their file, or the grader on their file) ends in that student's
report, never in the run: every other student is still graded and stored. Ctrl-C keeps every
finished report and stops at once; the next run judges only what remains.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import sys
import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from autograder import autograded
from autograder.course import Assignment, Submitted, atomic_write, sha256
from autograder.gradebook import ensure_registered, open_gradebook, record, run_nbgrader
from autograder.intake import late_penalty_plugin
from autograder.judge import UsageError
from autograder.reports import ReportStore
from autograder.sandbox import (
    Limits,
    cap_own_memory,
)
from autograder.task import Task, judge_student, judge_task
from autograder.worker.procname import name_process

POOL_MEMORY_BYTES = 6 * 1024**3  # a pool process holds one submission's report and notebook
MAX_POOL_BREAKS = 2  # a submission in flight when the pool died this often is not retried


@dataclass
class ClassRun:
    """What a ``grade`` run did: the reports of the class and what needs the instructor."""

    assignment: Assignment
    reports: dict[str, dict] = field(default_factory=dict)
    judged: list[str] = field(default_factory=list)
    previous: dict[str, dict] = field(default_factory=dict)
    grader_errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    remaining: int = 0
    interrupted: bool = False
    signal: int | None = None  # what interrupted it (SIGINT for Ctrl-C, or SIGTERM)
    csv_path: Path | None = None
    late_plugin: object = None  # nbgrader's late-penalty plugin as the course configures it


def grade_class(
    assignment: Assignment,
    jobs: int,
    students: list[str] | None = None,
    mode: str = "all",
    progress: bool = True,
    feedback: bool = False,
    sandboxed_only: bool = True,
    scheduler: str | None = None,
) -> ClassRun:
    """Grade every submission (or only ``students``), record the gradebook, write the CSV and
    the class summary of every graded submission. With ``feedback``, also execute each
    notebook in the sandbox for its feedback page and run ``nbgrader generate_feedback``.
    ``sandboxed_only`` (the default) refuses to run students' code without the sandbox.
    ``scheduler`` (``tcp://HOST:PORT`` or ``local:N``) sends the tasks to Dask workers instead
    of ``jobs`` local processes (see ``autograder.cluster``).
    On Ctrl-C: returns with ``interrupted`` set after storing every finished report."""
    from tqdm import tqdm

    subs = assignment.submissions(students)
    if not subs:
        raise UsageError(
            f"no submissions found under {assignment.course.root / 'submitted'}/*/"
            f"{assignment.name}/; collect them first (python -m autograder collect)."
        )
    if scheduler is not None:
        from autograder.cluster import check_scheduler

        check_scheduler(scheduler)  # a bad address is refused before anything is written
    ensure_registered(assignment)
    store = ReportStore(assignment)
    run = ClassRun(assignment, late_plugin=late_penalty_plugin(assignment.course.root))
    todo: dict[str, tuple[Submitted, str, dict | None]] = {}
    for student, sub in subs.items():
        if sub.note:
            run.notes.append(sub.note)
        digest = sha256(sub.path)
        run.previous[student] = store.load(student) or {}
        cached = store.get(student, digest, mode)
        if cached is not None:
            run.reports[student] = cached
        if cached is None or (feedback and not autograded.is_current(assignment, cached, True)):
            todo[student] = (sub, digest, cached)
    bar = tqdm(total=len(subs), initial=len(subs) - len(todo), disable=not progress,
               unit="sub", desc=f"grading {assignment.name}", file=sys.stderr)  # fmt: skip
    with open_gradebook(assignment.course) as gb:
        for student, data in run.reports.items():
            _record(run, gb, data)
            if student not in todo and not autograded.is_current(assignment, data, False):
                autograded.write_autograded(assignment, data)
        limits = Limits(allow_unsandboxed=not sandboxed_only)
        coordinator = Coordinator(run, store, gb, todo, mode, feedback, limits, bar)
        coordinator.stop = _catch_ctrl_c()
        try:
            if not todo:
                completed = True
            elif scheduler is None:
                completed = _judge_in_pool(coordinator, jobs)
            else:
                from autograder.cluster import judge_on_cluster

                completed = judge_on_cluster(coordinator, scheduler)
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
        run.interrupted = not completed
        run.signal = int(coordinator.stop.signum) if run.interrupted else None
    bar.close()
    run.remaining = len(todo) - len(run.judged)
    if run.interrupted:
        return run
    if feedback:
        run_nbgrader(assignment.course, ["generate_feedback", assignment.name, "--force"])
    if students:  # the summary and the CSV cover the whole class, not just this run
        run.reports = {**current_reports(assignment, store), **run.reports}
        older = sorted(s for s, r in run.reports.items() if r.get("older_grader"))
        if older:
            run.notes.append(
                f"{len(older)} other students' reports in the CSV and summary were made by an "
                "earlier version of the grader or its hidden tests; run grade without "
                "--student to judge them again."
            )
    from autograder.summary import write_summary

    write_summary(
        assignment.course.root, assignment.name, [run.reports[s] for s in sorted(run.reports)]
    )
    run.csv_path = write_csv(assignment, run.reports)
    return run


class Coordinator:
    """The coordinating process's side of a class run, handed to whatever runs the tasks (the
    local pool below, or ``autograder.cluster``): ``students`` to judge, ``task(student)`` to
    send, ``arrived(student, result)`` for each result, ``say(sentence)`` for the instructor,
    ``stop`` set by Ctrl-C."""

    def __init__(self, run, store, gb, todo, mode, feedback, limits, bar):
        self.run, self.store, self.gb, self.todo = run, store, gb, todo
        self.mode, self.feedback, self.limits, self.bar = mode, feedback, limits, bar
        self.students = list(todo)
        self.stop = threading.Event()

    @property
    def assignment(self) -> Assignment:
        return self.run.assignment

    def task(self, student: str) -> Task | None:
        """The task of ``student``'s submission as it is on disk now, or None (the result is
        then already recorded) when the file cannot be read any more."""
        sub, digest, cached = self.todo[student]
        try:
            content = sub.path.read_bytes()
        except OSError as exc:
            self.arrived(student, {"error": f"the submission could not be read: {exc}"})
            return None
        now = hashlib.sha256(content).hexdigest()
        if now != digest:  # changed since the run began: judge what is there now
            digest, cached = now, None
            self.todo[student] = (sub, digest, cached)
        root = self.assignment.course.root
        return Task(
            assignment=self.assignment.name,
            student=student,
            shown=sub.path.relative_to(root).as_posix(),
            content=content,
            digest=digest,
            seed=self.assignment.seed(student, digest),
            mode=self.mode,
            limits=self.limits,
            fingerprint=self.store.fingerprint,
            note=sub.note,
            cached=cached,
            execute=self.feedback,
        )

    def arrived(self, student: str, result: dict) -> None:
        """Turn a task's result into the student's report and record it: report store,
        gradebook, autograded notebook. Never raises for one student's trouble."""
        sub, digest, _ = self.todo[student]
        data = take_result(self.assignment, sub, digest, self.mode, result)
        if not data.get("grader_error"):
            try:
                self.store.put(data)
            except OSError as exc:
                data["grader_error"] = f"the report could not be stored: {exc}"
        _record(self.run, self.gb, data)
        self.run.reports[student] = data
        self.run.judged.append(student)
        self.bar.update(1)

    def say(self, sentence: str) -> None:
        """Tell the instructor now (above the progress bar) and again at the end."""
        if sentence not in self.run.notes:
            self.run.notes.append(sentence)
            if not self.bar.disable:
                self.bar.write(f"note: {sentence}", file=sys.stderr)


def _record(run: ClassRun, gb, data: dict) -> None:
    """Put one report into the gradebook; a failure there is that student's, not the run's."""
    student = data["student"]
    if data.get("grader_error"):
        run.grader_errors[student] = data["grader_error"]
        return
    try:
        record(gb, run.assignment, data, run.late_plugin)
    except Exception as exc:  # noqa: BLE001
        gb.db.rollback()
        run.grader_errors[student] = f"recording in the gradebook failed: {exc!r}"


def _judge_in_pool(coordinator: Coordinator, jobs: int) -> bool:
    """Run the coordinator's tasks in a local process pool, ``jobs`` at a time (and one
    waiting), handing each result to ``coordinator.arrived`` as it arrives. When the pool breaks (a
    pool process killed), a fresh one is started and the submissions that were in flight are
    judged again one at a time, so the one that breaks it alone is known; after
    ``MAX_POOL_BREAKS`` such breaks it gets a grader-error report. Returns False when
    interrupted by Ctrl-C (finished reports are kept; the pool is stopped at once)."""
    queue, alone = list(coordinator.students), []
    breaks: dict[str, int] = {}
    pool = None
    in_flight: dict = {}
    try:
        while queue or alone or in_flight:
            if pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=max(1, jobs), initializer=_pool_process_setup
                )
            _fill(pool, coordinator, queue, alone, in_flight, jobs)
            done, _ = wait(in_flight, timeout=0.1, return_when=FIRST_COMPLETED)
            if coordinator.stop.is_set():
                raise KeyboardInterrupt
            results = []
            for future in done:
                student, its_pool, was_alone = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    if its_pool is pool:  # the next round starts a fresh pool
                        pool.shutdown(wait=False)
                        pool = None
                    if was_alone:
                        breaks[student] = breaks.get(student, 0) + 1
                    if breaks.get(student, 0) < MAX_POOL_BREAKS:
                        alone.append(student)
                        continue
                    result = {"error": f"the grading process died {MAX_POOL_BREAKS} times while "
                              "handling only this submission (killed from outside, or out of "
                              "memory)"}  # fmt: skip
                results.append((student, result))
            if results and pool is not None:
                _fill(pool, coordinator, queue, alone, in_flight, jobs)  # busy while we record
            for student, result in results:
                coordinator.arrived(student, result)
    except KeyboardInterrupt:
        if pool is not None:
            _stop_now(pool)
        return False
    if pool is not None:
        pool.shutdown(wait=True)
    return True


def _fill(pool, coordinator: Coordinator, queue: list, alone: list, in_flight: dict, jobs: int):
    """Submit tasks until ``jobs`` + 1 are in flight (one waiting, so a pool process that
    finishes starts the next at once), or the one submission to be judged alone."""
    while (alone and not in_flight) or (queue and not alone and len(in_flight) < jobs + 1):
        solo = bool(alone)
        student = (alone or queue).pop(0)
        task = coordinator.task(student)
        if task is not None:
            in_flight[pool.submit(judge_task, task)] = (student, pool, solo)


def _catch_ctrl_c() -> threading.Event:
    """From now on Ctrl-C (SIGINT) or SIGTERM only sets the returned flag (checked between
    reports, so a report is never half recorded); ``flag.signum`` says which. A second one
    leaves at once."""
    pressed = threading.Event()
    pressed.signum = signal.SIGINT

    def handler(signum, frame):
        if pressed.is_set():
            os._exit(128 + signum)
        pressed.signum = signum
        pressed.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
    return pressed


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop the pool without waiting for the submissions in flight."""
    for process in list((pool._processes or {}).values()):  # noqa: SLF001
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _pool_process_setup() -> None:
    """Pool processes leave Ctrl-C to the coordinating process, end their sandboxes when
    terminated, and live under a memory cap."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cap_own_memory(POOL_MEMORY_BYTES)
    name_process("ll-grader")


def take_result(assignment: Assignment, sub: Submitted, digest: str, mode: str, result) -> dict:
    """In the coordinating process: the report of one finished task, with the student's
    autograded notebook written; a grader-error report when the task failed, was refused
    everywhere, or its notebook cannot be written."""
    if not isinstance(result, dict) or not isinstance(result.get("report"), dict):
        reason = (result or {}).get("error") if isinstance(result, dict) else None
        if isinstance(result, dict) and result.get("refused"):
            reason = f"no worker could judge it: {result['refused']}"
        return grader_error_report(assignment, sub, digest, mode, reason or repr(result)[:1000])
    data = result["report"]
    try:
        executed = None
        if result.get("executed"):
            import nbformat

            executed = nbformat.reads(result["executed"], as_version=4)
        autograded.write_autograded(assignment, data, executed)
    except Exception as exc:  # noqa: BLE001
        detail = "".join(traceback.format_exception_only(exc)).strip()
        reason = f"writing the autograded notebook failed: {detail}"[:1000]
        return grader_error_report(assignment, sub, digest, mode, reason)
    return data


def report_for(assignment: Assignment, sub: Submitted, mode: str) -> dict:
    """The stored report of this exact file, grader and mode, or a fresh one (then stored):
    what ``nbgrader autograde`` records through ``autograder.nbgrader_hooks``."""
    store = ReportStore(assignment)
    digest = sha256(sub.path)
    data = store.get(sub.student, digest, mode)
    if data is None:
        data = judge_student(assignment, sub, mode, digest)
        store.put(data)
    return data


def grader_error_report(assignment: Assignment, sub: Submitted, digest, mode, reason) -> dict:
    """A report for a submission the grader itself failed on: no points recorded, the reason
    kept for the instructor, judged again on the next run."""
    message = "grader error, needs attention: the grader failed on this submission (not a " \
              "verdict on your code); your instructor has been told."  # fmt: skip
    return {
        "assignment": assignment.name,
        "submission": str(sub.path.relative_to(assignment.course.root)),
        "seed": assignment.seed(sub.student, digest),
        "score": 0.0,
        "max_score": assignment.suite.max_score,
        "tests": [
            {
                "id": t.id,
                "functions": list(t.functions),
                "score": 0.0,
                "max_score": t.points,
                "status": "error",
                "message": message,
            }
            for t in assignment.suite.tests
        ],  # fmt: skip
        "notes": [message],
        "student": sub.student,
        "sha256": digest,
        "mode": mode,
        "grader_error": reason,
    }


def current_reports(assignment: Assignment, store: ReportStore) -> dict[str, dict]:
    """The stored report of every submission graded in its present form (in whichever mode
    it was last graded); each made by an earlier version of the grader is marked
    ``"older_grader": True``."""
    found = {}
    for student, sub in assignment.submissions().items():
        data = store.load(student)
        if data and not data.get("grader_error") and data.get("sha256") == sha256(sub.path):
            data["older_grader"] = data.get("fingerprint") != store.fingerprint
            found[student] = data
    return found


def write_csv(assignment: Assignment, reports: dict[str, dict]) -> Path:
    """``grades-NAME.csv``: one row per student, one column per hidden test."""
    test_ids = [t.id for t in assignment.suite.tests]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "score", "max_score", "seed", "mode", *test_ids])
    for student in sorted(reports):
        data = reports[student]
        scores = {t["id"]: t["score"] for t in data["tests"]}
        head = [student, data["score"], data["max_score"], data["seed"], data.get("mode", "")]
        writer.writerow(head + [scores.get(t, 0.0) for t in test_ids])
    atomic_write(assignment.csv_path, out.getvalue())
    return assignment.csv_path
