"""Grading on Dask distributed: ``grade NAME --scheduler tcp://HOST:8786`` (or ``local:N``).

Each submission is one Dask task running ``autograder.task.judge_task`` on a worker: the
submission's bytes, file name, assignment, mode, seed and limits travel with it (never the
course's salt), and the result comes back as plain data. Workers need the kit installed (the
same version: a worker with another grader refuses) and a usable bubblewrap (a worker without
one refuses, and the coordinator names it and sends the task elsewhere); they need no course
directory. The coordinating process keeps its one job: it records each result as it arrives.

Faults are Dask's to handle where Dask can: a worker that dies mid-task has its task rerun on
another; a task whose workers keep dying (``distributed.scheduler.allowed-failures``, 3 by
default) ends with ``KilledWorker``, and that student gets a grader-error report, judged again
on the next run like any other grader failure.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager

from autograder.judge import UsageError
from autograder.task import Task, judge_task

MIN_WINDOW = 256  # tasks handed to the scheduler ahead of the workers (an adaptive cluster
# sizes itself on what is queued), at least 4 per worker thread
MAX_REFUSALS = 3  # a task refused this often (workers without a sandbox) is given up
CONNECT_SECONDS = 30

_LOCAL = re.compile(r"local:(\d+)")


def check_scheduler(spec: str) -> None:
    """Raise ``UsageError`` unless ``spec`` is ``local:N`` or a scheduler address, and Dask
    distributed is installed."""
    local = _LOCAL.fullmatch(spec)
    if local is None and "://" not in spec:
        raise UsageError(
            f"--scheduler {spec!r} is neither a scheduler address (tcp://HOST:8786) nor "
            "local:N (a Dask cluster of N processes on this machine)."
        )
    if local is not None and int(local.group(1)) < 1:
        raise UsageError("--scheduler local:N needs at least one process (N >= 1).")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask distributed: install it with pip install -e '.[cluster]'."
        ) from None


@contextmanager
def dask_client(spec: str):
    """A Dask ``Client`` for ``spec``: a ``LocalCluster`` of N single-threaded processes for
    ``local:N`` (closed afterwards), else the scheduler at that address."""
    from distributed import Client, LocalCluster

    check_scheduler(spec)
    local = _LOCAL.fullmatch(spec)
    cluster = None
    try:
        if local:
            n = int(local.group(1))
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", preload=[__name__])  # fmt: skip
            client = Client(cluster)
        else:
            client = Client(spec, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise UsageError(
            f"cannot reach the Dask scheduler at {spec} ({exc}); nothing more was judged."
        ) from None
    try:
        yield client
    finally:
        _close(client, cluster)


def _close(client, cluster) -> None:
    """Close quickly: a stopped run must not wait for Dask's own timeouts."""
    try:
        client.close(timeout=2)
    except Exception:  # noqa: BLE001  (already disconnected)
        pass
    if cluster is not None:
        try:
            cluster.close(timeout=5)
        except Exception:  # noqa: BLE001
            pass


def dask_setup(worker) -> None:
    """Run by Dask in each ``local:N`` worker process (this module is its preload): Ctrl-C in
    the terminal reaches these processes too, and is the coordinator's to handle."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_on_worker(task: Task) -> dict:
    """On a Dask worker: ``judge_task``, with the worker's address added to a refusal."""
    from distributed import get_worker

    result = judge_task(task)
    if "refused" in result:
        result["worker"] = get_worker().address
    return result


def judge_on_cluster(coordinator, spec: str) -> bool:
    """Run the coordinator's tasks on the Dask cluster at ``spec``, handing each result to
    ``coordinator.arrived`` as it completes (``coordinator``: an ``autograder.grading``
    ``Coordinator``, whose ``students``, ``task``, ``arrived``, ``say`` and ``stop`` are all
    this module uses). Returns False when interrupted by Ctrl-C (the
    tasks still queued are cancelled; finished reports are kept)."""
    with dask_client(spec) as client:
        return _Dispatch(coordinator, client).run()


class _Dispatch:
    """The tasks of one run on one Dask client: submitted a window ahead of the workers,
    collected with ``as_completed``. Once a worker has refused (no sandbox, another grader),
    tasks are restricted to the workers that have not; a restricted task whose workers have
    all left is sent again, or given up when no such worker is left.

    Dask counts a worker's death against every task the worker held, so an honest task
    queued next to one that kills its worker can end in ``KilledWorker`` too. Such a task is
    judged again at the end, alone on the cluster (nothing else in flight): only a task that
    kills its worker on its own is reported as a grader error."""

    def __init__(self, coordinator, client):
        from distributed import as_completed

        self.coordinator, self.client = coordinator, client
        self.pending = deque(coordinator.students)
        self.in_flight: dict = {}  # future -> student
        self.restricted: dict = {}  # future -> the workers it may run on
        self.refusals: dict[str, int] = {}  # student -> how often refused
        self.refusing: dict[str, str] = {}  # worker address -> why it refused
        # Results are fetched in the background as tasks finish (and so leave the workers'
        # memory at once): a worker dying later cannot hold up the collection.
        self.completed = as_completed(with_results=True, raise_errors=False)
        self.window = MIN_WINDOW
        self.suspects: deque[str] = deque()  # KilledWorker once: to judge again, alone
        self.alone: str | None = None  # the suspect in flight (nothing else is)
        self.judged_alone: set[str] = set()

    def run(self) -> bool:
        stop = self.coordinator.stop
        checked = time.monotonic()
        try:
            while self.pending or self.in_flight or self.suspects:
                self._fill()
                batch = self.completed.next_batch(block=False)
                if stop.is_set():
                    raise KeyboardInterrupt
                if time.monotonic() - checked > 1.0:
                    self._rescue()
                    checked = time.monotonic()
                if not batch:
                    time.sleep(0.05)
                    continue
                for future, result in batch:
                    self._collect(future, result)
        except KeyboardInterrupt:
            self._cancel()
            return False
        return True

    def _fill(self) -> None:
        if self.alone is not None:
            return
        while self.pending and len(self.in_flight) < self.window:
            self._send(self.pending.popleft())
        if not self.pending and not self.in_flight and self.suspects:
            student = self.suspects.popleft()
            self.judged_alone.add(student)
            self.alone = student
            self._send(student)
            if not self.in_flight:
                self.alone = None  # recorded at once (its file could not be read)

    def _send(self, student: str) -> None:
        task = self.coordinator.task(student)
        if task is None:
            return  # already recorded: the file could not be read
        where = {}
        if self.refusing:
            allowed = [w for w in self.client.nthreads() if w not in self.refusing]
            if not allowed:
                named = "; ".join(f"worker {w}: {why}" for w, why in self.refusing.items())
                self.coordinator.arrived(student, {"refused": named})
                return
            where = {"workers": allowed, "allow_other_workers": False}
        key = f"layerlab-{task.assignment}-{student}-{uuid.uuid4().hex[:12]}"
        try:
            future = self.client.submit(run_on_worker, task, key=key, pure=False, **where)
        except Exception as exc:  # noqa: BLE001  (the scheduler is gone)
            self.coordinator.arrived(student, {"error": f"Dask refused the task: {exc}"})
            return
        self.in_flight[future] = student
        if where:
            self.restricted[future] = set(where["workers"])
        self.completed.add(future)

    def _rescue(self) -> None:
        """Size the window to the workers there are now, and send again each restricted task
        whose every allowed worker has left."""
        threads = self.client.nthreads()
        self.window = max(MIN_WINDOW, 4 * sum(threads.values()))
        alive = set(threads)
        for future, allowed in list(self.restricted.items()):
            if not future.done() and not allowed & alive:
                student = self.in_flight.pop(future)
                del self.restricted[future]
                future.cancel()
                self._send(student)

    def _collect(self, future, outcome) -> None:
        """One finished future: ``outcome`` is its result, or ``(type, exception,
        traceback)`` when it failed, or a ``CancelledError``."""
        from distributed import KilledWorker

        if future not in self.in_flight:
            return  # abandoned by _rescue and sent again
        student = self.in_flight.pop(future)
        self.restricted.pop(future, None)
        if student == self.alone:
            self.alone = None
        result = outcome
        if isinstance(outcome, dict) and {"report", "error", "refused"} & set(outcome):
            pass  # fetched: the status may read "lost" when its worker died afterwards
        elif future.status == "error":
            exc = outcome[1] if isinstance(outcome, tuple) and len(outcome) == 3 else outcome
            if isinstance(exc, KilledWorker) and student not in self.judged_alone:
                future.release()
                self.suspects.append(student)  # perhaps only queued next to a killer
                return
            if isinstance(exc, KilledWorker):
                result = {"error": _killed_sentence(exc)}
            else:
                result = {"error": f"the Dask task failed: {type(exc).__name__}: {exc}"[:1000]}
        else:
            result = {"error": f"the Dask task was lost ({future.status}): {outcome!r}"[:1000]}
        future.release()
        if "refused" in result:
            self._refused(student, result)
            return
        self.coordinator.arrived(student, result)

    def _refused(self, student: str, result: dict) -> None:
        """Name a refusing worker once, and send the task to the others (given up after
        ``MAX_REFUSALS``, or when no other worker is left)."""
        worker, why = result.get("worker", "?"), result["refused"]
        if worker not in self.refusing:
            self.refusing[worker] = why
            self.coordinator.say(
                f"Dask worker {worker} refused to judge: {why} Its tasks go to other workers."
            )
        self.refusals[student] = self.refusals.get(student, 0) + 1
        if self.refusals[student] >= MAX_REFUSALS:
            self.coordinator.arrived(student, {"refused": f"worker {worker}: {why}"})
        else:
            self._send(student)

    def _cancel(self) -> None:
        try:
            self.client.cancel(list(self.in_flight), force=True)
        except Exception:  # noqa: BLE001  (already disconnected)
            pass


def _killed_sentence(exc) -> str:
    """The grader-error reason for a task whose workers kept dying."""
    worker = getattr(getattr(exc, "last_worker", None), "address", None)
    tries = getattr(exc, "allowed_failures", None)
    times = f"{tries + 1} times" if isinstance(tries, int) else "repeatedly"
    return (
        f"the Dask worker judging it alone died {times} (last {worker or 'unknown'}: killed "
        "from outside, or out of memory); not retried (Dask's "
        "distributed.scheduler.allowed-failures)"
    )
