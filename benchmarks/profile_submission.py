"""Where one submission's grading time goes, per assignment and mode.

Judges a few copies of each assignment's solution (fast = definitions only, whole = the whole
notebook, feedback = whole plus the notebook executed in a sandboxed kernel) exactly as a pool
process does (``judge_task``), then records the result as the coordinator does (report store,
autograded notebook, gradebook), with timers around each part. Prints one Markdown table per
assignment: median milliseconds per submission.

    python benchmarks/profile_submission.py [--n 3] [--assignment a1_activations ...]
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import autograder.autograded as autograded_module  # noqa: E402
import autograder.feedback as feedback_module  # noqa: E402
import autograder.judge as judge_module  # noqa: E402
from autograder.course import sha256  # noqa: E402
from autograder.demo import build_course, write_class  # noqa: E402
from autograder.gradebook import ensure_registered, open_gradebook, record  # noqa: E402
from autograder.grading import take_result  # noqa: E402
from autograder.reports import ReportStore, grader_fingerprint  # noqa: E402
from autograder.sandbox import Limits, WorkerClient  # noqa: E402
from autograder.suites import ASSIGNMENTS  # noqa: E402
from autograder.task import Task, judge_task  # noqa: E402

MODES = {"fast": ("definitions", False), "whole": ("all", False), "feedback": ("all", True)}
ROWS = [
    ("sandbox", "sandbox and interpreter start (bwrap, python, numpy, worker)"),
    ("load", "running the notebook's cells (worker CPU)"),
    ("fork", "per-test fork and exit of the worker"),
    ("channel", "channel: requests and replies (both sides)"),
    ("student", "student's functions during the tests (worker CPU)"),
    ("oracles", "grading process: oracles, references, checks"),
    ("judge", "= judging in the pool process (wall)"),
    ("execute", "feedback: notebook run in a sandboxed kernel"),
    ("store", "coordinator: report store"),
    ("notebook", "coordinator: autograded notebook"),
    ("gradebook", "coordinator: gradebook"),
    ("total", "= one submission, end to end"),
    ("cpu_start", "CPU: worker's interpreter start and imports"),
    ("cpu_cells", "CPU: worker running the notebook's cells"),
    ("cpu_tests", "CPU: worker serving the tests (forks, requests, student's code)"),
    ("cpu_grader", "CPU: grading process (channel, oracles, checks, sandbox)"),
    ("cpu_total", "= CPU of one submission (these four)"),
]


class Timers:
    def __init__(self):
        self.ms = defaultdict(float)
        self.count = defaultdict(int)

    def add(self, key: str, seconds: float) -> None:
        self.ms[key] += seconds * 1000
        self.count[key] += 1


@contextlib.contextmanager
def patched(owner, name: str, wrapper):
    original = getattr(owner, name)
    setattr(owner, name, wrapper(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def timed(timers: Timers, key: str, after=None):
    """A wrapper factory: time each call under ``key``; ``after(timers, seconds, self, result)``
    may book part of it elsewhere."""

    def wrap(fn):
        def inner(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                timers.add(key, spent)
            if after is not None:
                after(timers, spent, args[0] if args else None, result)
            return result

        return inner

    return wrap


def _split_load(timers, spent, client, result):
    load = getattr(client, "load_seconds", None) or 0.0  # older workers do not report it
    timers.add("load", load)
    timers.ms["start"] -= load * 1000


def _split_call(timers, spent, client, result):
    """Book the student's CPU of a call, or of every call of a batch (a list of outcomes),
    apart from the channel's time."""
    if isinstance(result, list):
        student = sum(o.seconds or 0.0 for o in result)
    else:
        student = client.last_call_seconds or 0.0
    timers.add("student", student)
    timers.ms["call"] -= student * 1000


def _close_measured(timers: Timers):
    """A wrapper of ``WorkerClient.close``: first ask the worker for the CPU it used."""

    def wrap(close):
        def inner(client):
            if client.alive and not client.in_test:
                cpu = client.usage()
                if cpu is not None and client.start_seconds is not None:
                    timers.add("cpu_start", client.start_seconds)
                    timers.add("cpu_cells", client.load_seconds or 0.0)
                    timers.add("cpu_tests", cpu - client.start_seconds - (client.load_seconds or 0))
            return close(client)

        return inner

    return wrap


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def profile_one(assignment, sub, mode_name: str, gb, store, fingerprint) -> Timers:
    mode, execute = MODES[mode_name]
    t = Timers()
    content = sub.path.read_bytes()
    digest = sha256(sub.path)
    task = Task(assignment=assignment.name, student=sub.student,
                shown=sub.path.relative_to(assignment.course.root).as_posix(), content=content,
                digest=digest, seed=assignment.seed(sub.student, digest), mode=mode,
                limits=Limits(), fingerprint=fingerprint, execute=execute)  # fmt: skip
    with contextlib.ExitStack() as stack:
        enter = stack.enter_context
        enter(patched(WorkerClient, "start", timed(t, "start", _split_load)))
        enter(patched(WorkerClient, "begin_test", timed(t, "fork")))
        enter(patched(WorkerClient, "end_test", timed(t, "fork")))
        enter(patched(WorkerClient, "call", timed(t, "call", _split_call)))
        enter(patched(WorkerClient, "batch", timed(t, "call", _split_call)))
        enter(patched(WorkerClient, "attr", timed(t, "call")))
        enter(patched(WorkerClient, "assign", timed(t, "call")))
        enter(patched(judge_module, "run_test", timed(t, "run_test")))
        enter(patched(feedback_module, "execute_for_feedback", timed(t, "execute")))
        enter(patched(autograded_module, "write_autograded", timed(t, "notebook")))
        enter(patched(WorkerClient, "close", _close_measured(t)))
        started, cpu = time.perf_counter(), _process_cpu()
        result = judge_task(task)
        t.add("task", time.perf_counter() - started)
        t.add("cpu_grader", _process_cpu() - cpu)
        data = take_result(assignment, sub, digest, mode, result)
        if data.get("grader_error"):
            sys.exit(f"{assignment.name} {mode_name}: grader error: {data['grader_error']}")
        s = time.perf_counter()
        store.put(data)
        t.add("store", time.perf_counter() - s)
        s = time.perf_counter()
        record(gb, assignment, data)
        t.add("gradebook", time.perf_counter() - s)
        t.add("total", time.perf_counter() - started)
    m = t.ms
    m["sandbox"] = m["start"]
    m["channel"] = m["call"]
    m["oracles"] = m["run_test"] - m["call"] - m["student"]
    m["judge"] = m["task"] - m["execute"]
    m["cpu_total"] = sum(m[k] for k in ("cpu_start", "cpu_cells", "cpu_tests", "cpu_grader"))
    m["tests"] = t.count["run_test"]
    m["calls"] = t.count["call"]
    return t


def make_course(dest: Path, assignment: str, n: int):
    course = build_course(dest)
    write_class(course, assignment, n, mutants=False)
    return course


def profile_assignment(name: str, n: int, modes: list[str]) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        course = make_course(Path(tmp) / "course", name, n)
        assignment = course.assignment(name)
        ensure_registered(assignment)
        store = ReportStore(assignment)
        fingerprint = grader_fingerprint(name)
        subs = list(assignment.submissions().values())
        medians = {}
        with open_gradebook(course) as gb:
            for mode in modes:
                runs = [profile_one(assignment, sub, mode, gb, store, fingerprint) for sub in subs]
                keys = {k for r in runs for k in r.ms}
                medians[mode] = {k: statistics.median(r.ms.get(k, 0.0) for r in runs) for k in keys}
        return medians


def table(name: str, medians: dict[str, dict[str, float]]) -> str:
    modes = list(medians)
    first = medians[modes[0]]
    lines = [
        f"#### {name} ({int(first.get('tests', 0))} tests, "
        + ", ".join(f"{m}: {int(medians[m].get('calls', 0))} exchanges" for m in modes)
        + ")",
        "",
        "| ms per submission | " + " | ".join(modes) + " |",
        "|---|" + "---:|" * len(modes),
    ]
    for key, label in ROWS:
        cells = [medians[m].get(key, 0.0) for m in modes]
        if key == "execute" and not any(cells):
            continue
        lines.append(f"| {label} | " + " | ".join(f"{c:.0f}" for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3, help="submissions per assignment and mode")
    parser.add_argument("--assignment", nargs="*", default=list(ASSIGNMENTS))
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES))
    args = parser.parse_args()
    for name in args.assignment:
        print(table(name, profile_assignment(name, args.n, args.modes)), flush=True)
        print()


if __name__ == "__main__":
    main()
