"""Grading throughput on Dask: the same submissions graded by local processes and by a
2-worker Dask cluster on this machine, and where the time of a task goes.

Two copies of one course (same salt, so the same seeds and reports) with N submissions
(correct ones and catalog mutants, cycled) are graded with ``grade_class``: once with
``jobs=2`` local processes, once through a ``dask scheduler`` and two ``dask worker`` processes
(one thread each) started here, their start-up untimed. Then it prints:

- both rates (submissions per minute, the whole class run: judging, store, gradebook, CSV,
  summary);
- the scheduler's overhead per task: N no-op tasks carrying a payload of the same size
  through the same scheduler and workers, wall time per task;
- the coordinator's time per result (store, gradebook, autograded notebook), which is serial;
- the workers' idle time per task in the graded run: (2 x wall - time spent judging) / N;
- what 50 workers would then reach: each worker does one task per (judging + its idle
  time), and the coordinator and scheduler take their per-result time one after another, so
  rate = min(50 / (judging + idle), 1 / (coordinator + scheduler)).

    python benchmarks/cluster_throughput.py [--n 200 | --quick] [--full] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import grading  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.demo import build_course, write_class  # noqa: E402
from autograder.reports import grader_fingerprint  # noqa: E402


def make_course(dest: Path, assignment: str, n: int) -> Course:
    course = build_course(dest)
    write_class(course, assignment, n)
    course.salt()
    return course


class Engine:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each in its own process
    group, all ended by ``stop``."""

    def __init__(self, workers: int, scratch: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs = []
        self.scratch = scratch
        self._start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
        for i in range(workers):
            self._start(["worker", self.address, "--nworkers", "1", "--nthreads", "1",
                         "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}",
                         "--local-directory", str(scratch / f"w{i}")])  # fmt: skip
        from distributed import Client

        with Client(self.address, timeout=300) as client:
            client.wait_for_workers(workers, timeout=300)

    def _start(self, args: list[str]) -> None:
        env = dict(
            os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
        log = (self.scratch / f"{args[0]}-{len(self.procs)}.log").open("w")
        self.procs.append(subprocess.Popen([sys.executable, "-m", "dask", *args], env=env,
                                           stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))  # fmt: skip

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def timed_run(course: Course, assignment: str, mode: str, **kw) -> tuple[float, float, object]:
    """Wall seconds of one class run, and the coordinator's mean seconds per result."""
    spent = []
    arrived = grading.Coordinator.arrived

    def timing(self, student, result):
        started = time.perf_counter()
        arrived(self, student, result)
        spent.append(time.perf_counter() - started)

    grading.Coordinator.arrived = timing
    try:
        started = time.monotonic()
        run = grading.grade_class(course.assignment(assignment), progress=False, mode=mode, **kw)
        wall = time.monotonic() - started
    finally:
        grading.Coordinator.arrived = arrived
    if run.grader_errors:
        sys.exit(f"the grader failed: {run.grader_errors}")
    return wall, statistics.mean(spent), run


def scheduler_overhead(address: str, n: int, payload: int) -> float:
    """Seconds per task of ``n`` no-op tasks each carrying ``payload`` bytes, through the
    same scheduler and workers, as ``autograder.cluster`` submits them (not pure)."""
    from distributed import Client, wait

    data = os.urandom(payload)
    with Client(address) as client:
        client.submit(len, b"", pure=False).result()  # connections warm
        started = time.monotonic()
        futures = [client.submit(len, data, pure=False) for _ in range(n)]
        wait(futures)
        return (time.monotonic() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 submissions")
    parser.add_argument("--full", action="store_true", help="run whole notebooks, not --fast")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--assignment", default="a1_activations")
    args = parser.parse_args()
    n = 20 if args.quick else args.n
    mode = "all" if args.full else "definitions"
    scratch = Path(tempfile.mkdtemp(prefix="layerlab-cluster-bench-"))
    engine = None
    try:
        local = make_course(scratch / "local", args.assignment, n)
        remote = Course(scratch / "remote")
        shutil.copytree(local.root, remote.root)
        for course in (local, remote):  # registered in the gradebook, untimed
            from autograder.gradebook import ensure_registered

            ensure_registered(course.assignment(args.assignment))
        print(f"{n} submissions of {args.assignment}, mode {mode}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        local_wall, local_coord, local_run = timed_run(local, args.assignment, mode,
                                                       jobs=args.workers)  # fmt: skip
        engine = Engine(args.workers, scratch)
        # The grader as the workers see it now (a worker with another grader refuses).
        grader_fingerprint.cache_clear()
        remote_wall, remote_coord, remote_run = timed_run(
            remote, args.assignment, mode, jobs=1, scheduler=engine.address
        )
        same = all(
            {k: v for k, v in local_run.reports[s].items() if k != "seconds"}
            == {k: v for k, v in remote_run.reports[s].items() if k != "seconds"}
            for s in local_run.reports
        )
        payload = int(statistics.mean(p.stat().st_size for p in remote.root.rglob("*.ipynb")
                                      if "submitted" in p.parts))  # fmt: skip
        per_task = scheduler_overhead(engine.address, max(200, n), payload)
        judging = statistics.mean(r["seconds"] for r in remote_run.reports.values())
        idle = max(0.0, (args.workers * remote_wall - n * judging) / n)
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"local, {args.workers} processes:    {60 * n / local_wall:7.1f} submissions/min "
          f"({local_wall:.1f} s)")  # fmt: skip
    print(f"Dask, {args.workers} workers:       {60 * n / remote_wall:7.1f} submissions/min "
          f"({remote_wall:.1f} s); reports identical to the local run's: {same}")  # fmt: skip
    print(f"judging per submission (mean): {1000 * judging:7.0f} ms")
    print(f"scheduler overhead per task:   {1000 * per_task:7.1f} ms "
          f"(no-op tasks of {payload // 1024} KiB)")  # fmt: skip
    print(f"coordinator per result:        {1000 * remote_coord:7.1f} ms "
          f"(local run: {1000 * local_coord:.1f} ms)")  # fmt: skip
    print(f"worker idle per task:          {1000 * idle:7.0f} ms")
    serial = remote_coord + per_task
    for workers in (50,):
        rate = min(workers / (judging + idle), 1 / serial)
        bound = "the coordinator" if 1 / serial < workers / (judging + idle) else "the workers"
        print(f"expected on {workers} workers:     {60 * rate:7.0f} submissions/min "
              f"(bound by {bound})")  # fmt: skip


if __name__ == "__main__":
    main()
