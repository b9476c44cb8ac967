"""Grading on Dask distributed, with the real engine: a ``dask scheduler`` and ``dask worker``
processes on 127.0.0.1 started by each test (their own ports) and stopped in its ``finally``.

The class run through the cluster must give the reports of a local run (same salt, so same
seeds), lose nothing and grade nothing twice when a worker dies mid-run, report a student
whose task keeps killing workers without retrying it forever, and never judge on a worker
without a sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder import grading
from autograder.cluster import check_scheduler
from autograder.course import Course
from autograder.demo import DEMO_ASSIGNMENT, build_course, write_submission
from autograder.gradebook import open_gradebook
from autograder.judge import UsageError
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.reports import grader_fingerprint
from autograder.suites import load_suite

pytest.importorskip(
    "distributed", reason="the cluster extra is not installed: pip install -e '.[cluster]'"
)

SUITE = load_suite(DEMO_ASSIGNMENT)
START_SECONDS = 120  # a process start on a loaded 2-core machine

pytestmark = pytest.mark.slow


# ----------------------------------------------------------------------------- the engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalDask:
    """A scheduler and workers as separate ``dask`` processes, each leading its own process
    group (the worker's nanny, its worker process and their sandboxes all in it)."""

    def __init__(self, logs: Path, scheduler_env: dict | None = None):
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        args = ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                "--idle-timeout", "600"]  # fmt: skip
        self._start("scheduler", args, scheduler_env)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.procs["scheduler"].poll() is not None:
                    raise RuntimeError("no scheduler: " + self.log("scheduler")) from None
                time.sleep(0.1)

    def _start(self, name: str, args: list[str], env_extra: dict | None) -> subprocess.Popen:
        env = dict(os.environ, **(env_extra or {}))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        log = (self.logs / f"{name}.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.procs[name] = proc
        return proc

    def start_worker(self, name: str, env: dict | None = None, preload: Path | None = None):
        """Start ``dask worker`` (one process, one thread) and wait until it has registered."""
        args = ["worker", self.address, "--nworkers", "1", "--nthreads", "1", "--name", name,
                "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                "--local-directory", str(self.logs / name)]  # fmt: skip
        if preload is not None:
            args += ["--preload", str(preload)]
        self._start(name, args, env)
        with self.client() as client:
            deadline = time.monotonic() + START_SECONDS
            while name not in self.workers(client).values():
                if time.monotonic() > deadline or self.procs[name].poll() is not None:
                    raise RuntimeError(f"worker {name} did not start: " + self.log(name))
                time.sleep(0.1)

    @contextmanager
    def client(self):
        from distributed import Client

        client = Client(self.address, timeout=START_SECONDS)
        try:
            yield client
        finally:
            client.close()

    @staticmethod
    def workers(client) -> dict[str, str]:
        """``{address: name}`` of the workers the scheduler knows now."""
        return {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}

    def kill(self, name: str) -> None:
        """SIGKILL a whole process group: the worker dies as under the OOM killer."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-3000:]

    def stop(self) -> None:
        """End every process this object started (workers first), leaving none behind."""
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything still in a group
            except ProcessLookupError:
                pass


@contextmanager
def local_dask(logs: Path, scheduler_env: dict | None = None):
    dask = None
    try:
        dask = LocalDask(logs, scheduler_env)
        yield dask
    finally:
        if dask is not None:
            dask.stop()


# ----------------------------------------------------------------------------- courses


@pytest.fixture(autouse=True)
def current_grader():
    """The coordinator's grader fingerprint taken from the files as they are now, as the
    workers started by the test take theirs (a worker with another grader refuses)."""
    grader_fingerprint.cache_clear()


@pytest.fixture(scope="module")
def good():
    return solution_cells(SUITE)


@pytest.fixture(scope="module")
def mutants(good):
    return [apply_entry(good, m.replace) for m in load_catalog(DEMO_ASSIGNMENT)[0][:4]]


def scores(course: Course) -> dict[str, float]:
    with open_gradebook(course) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(DEMO_ASSIGNMENT).submissions}


def stored(course: Course) -> dict[str, dict]:
    folder = course.state_dir / "reports" / DEMO_ASSIGNMENT
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def comparable(report: dict) -> dict:
    """A report without its timing (which differs between two runs) and the grader's
    fingerprint (which differs when a file of the grader is edited between the two runs, as
    happens in a working tree; the verdicts must not)."""
    return {k: v for k, v in report.items() if k not in ("seconds", "fingerprint")}


# ----------------------------------------------------------------------------- the tests


def test_a_bad_scheduler_is_refused_in_one_sentence():
    for spec in ("localhost:8786", "local:0", "local:two"):
        with pytest.raises(UsageError, match="--scheduler|local:N"):
            check_scheduler(spec)
    check_scheduler("local:2")
    check_scheduler("tcp://10.0.0.5:8786")


def test_a_cluster_run_matches_a_local_run_and_loses_nothing_when_a_worker_dies(
    tmp_path, good, mutants, monkeypatch
):
    local = build_course(tmp_path / "local")
    students = [f"s{i:02d}" for i in range(20)]
    for i, student in enumerate(students):
        write_submission(local, student, DEMO_ASSIGNMENT, mutants[i // 5] if i % 5 == 3 else good)
    local.salt()  # made now, so the copy below shares it: same seeds, same inputs
    remote = Course(tmp_path / "cluster")
    shutil.copytree(local.root, remote.root)
    reference = grading.grade_class(local.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False,
                                    mode="definitions")  # fmt: skip
    assert not reference.grader_errors

    with local_dask(tmp_path / "dask") as dask:
        dask.start_worker("doomed")
        dask.start_worker("survivor")
        in_flight: list[str] = []
        with dask.client() as watcher:
            arrived = grading.Coordinator.arrived

            def arrived_then_kill(self, student, result):
                arrived(self, student, result)
                if not in_flight:
                    in_flight.extend(kill_if_judging(dask, watcher, "doomed"))

            monkeypatch.setattr(grading.Coordinator, "arrived", arrived_then_kill)
            grader_fingerprint.cache_clear()  # taken now, as the workers take theirs
            run = grading.grade_class(remote.assignment(DEMO_ASSIGNMENT), jobs=1,
                                      progress=False, mode="definitions",
                                      scheduler=dask.address)  # fmt: skip
            monkeypatch.undo()
        assert in_flight, "the worker was not killed while judging: " + dask.log("scheduler")
        assert dask.procs["doomed"].poll() is not None
        again = grading.grade_class(remote.assignment(DEMO_ASSIGNMENT), jobs=1,
                                    progress=False, mode="definitions",
                                    scheduler=dask.address)  # fmt: skip

    assert not run.grader_errors, run.grader_errors
    assert sorted(run.judged) == students, "a submission was lost or recorded twice"
    assert again.judged == [], "a finished report was judged again"
    ours, theirs = stored(remote), stored(local)
    assert sorted(ours) == students
    for student in students:
        assert comparable(ours[student]) == comparable(theirs[student]), student
    assert scores(remote) == scores(local)
    assert sorted(scores(remote)) == students
    assert (
        {s: r["score"] for s, r in ours.items() if r["score"] < SUITE.max_score}
        == {s: r["score"] for s, r in theirs.items() if r["score"] < SUITE.max_score}
        != {}
    ), "the mutants should lose points in both runs"


def kill_if_judging(dask: LocalDask, client, name: str) -> list[str]:
    """Kill worker ``name`` if it holds tasks now; the students whose tasks it held (their
    task keys name them), else []."""
    names = dask.workers(client)
    held = [k for a, keys in client.processing().items() if names.get(a) == name for k in keys]
    if held:
        dask.kill(name)
    return [str(k).split("-")[-2] for k in held]


KILLER = """
import os

from autograder import task

# Dask may run a preload twice in one process: keep the first original.
original = task.__dict__.setdefault("original_judge_student", task.judge_student)


def judge_student(assignment, sub, *args, **kw):
    if sub.student == "bob":
        os._exit(9)  # the worker process dies, as under the OOM killer
    return original(assignment, sub, *args, **kw)


task.judge_student = judge_student
"""


def test_a_task_that_keeps_killing_its_worker_is_reported_not_retried_forever(
    tmp_path, good, mutants
):
    course = build_course(tmp_path / "course")
    for student, cells in (("bob", good), ("cat", mutants[0]), ("dan", good)):
        write_submission(course, student, DEMO_ASSIGNMENT, cells)
    preload = tmp_path / "kills_on_bob.py"
    preload.write_text(KILLER)
    # One failure allowed (Dask's default is 3), and all three tasks queued on one worker of
    # one thread, bob's first: Dask counts each death of the worker against every task it
    # held, so cat's and dan's tasks end in KilledWorker too. They are judged again alone and
    # get their verdicts; bob's kills the worker alone too and is reported.
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "inf"}  # fmt: skip
    a1 = course.assignment(DEMO_ASSIGNMENT)
    with local_dask(tmp_path / "dask", scheduler_env=env) as dask:
        dask.start_worker("w", preload=preload)
        run = grading.grade_class(a1, jobs=1, progress=False, mode="definitions",
                                  scheduler=dask.address)  # fmt: skip
        assert dask.procs["w"].poll() is None, "the nanny should have restarted its worker"
    assert set(run.grader_errors) == {"bob"}, run.grader_errors
    assert "alone died 2 times" in run.grader_errors["bob"], run.grader_errors["bob"]
    assert "allowed-failures" in run.grader_errors["bob"]
    recorded = scores(course)
    assert recorded["dan"] == SUITE.max_score
    assert 0 < recorded["cat"] < SUITE.max_score
    assert recorded.get("bob", 0.0) == 0.0
    assert sorted(stored(course)) == ["cat", "dan"], "a grader failure was stored as a verdict"


def test_a_worker_without_a_sandbox_refuses_is_named_and_the_others_judge_with_feedback(
    tmp_path, good
):
    course = build_course(tmp_path / "course")
    students = ["ann", "bob", "cat", "dan"]
    for student in students:
        write_submission(course, student, DEMO_ASSIGNMENT, good)
    env = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    with local_dask(tmp_path / "dask", scheduler_env=env) as dask:
        dask.start_worker("unsandboxed", env={"LAYERLAB_NO_BWRAP": "1"})
        alone = grading.grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=1,
                                    progress=False, mode="definitions",
                                    scheduler=dask.address)  # fmt: skip
        with dask.client() as client:
            bad = next(a for a, n in dask.workers(client).items() if n == "unsandboxed")
        assert set(alone.grader_errors) == set(students)
        assert all(f"no worker could judge it: worker {bad}" in why and "bubblewrap" in why
                   for why in alone.grader_errors.values()), alone.grader_errors  # fmt: skip
        assert any(bad in note and "refused" in note for note in alone.notes), alone.notes
        assert stored(course) == {} and scores(course) == {}, "a refusal recorded a grade"

        dask.start_worker("sandboxed")
        env = dict(
            os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", DEMO_ASSIGNMENT, "--fast",
             "--feedback", "--no-progress", "--scheduler", dask.address],
            cwd=course.root, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"note: Dask worker {bad} refused to judge" in done.stdout, done.stdout[-3000:]
    assert f"{len(students)} submissions judged" in done.stdout
    assert scores(course) == {s: SUITE.max_score for s in students}
    a1 = course.assignment(DEMO_ASSIGNMENT)
    for student in students:  # the notebook executed on the worker came back for feedback
        executed = json.loads(a1.autograded_path(student).read_text())["metadata"]["layerlab"]
        assert executed["executed"] is True, student
        assert a1.feedback_path(student).exists(), student
