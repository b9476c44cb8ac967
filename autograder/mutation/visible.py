"""The notebooks' visible checks against the hand catalog: how many known bugs a student sees
fail before handing in (``python -m autograder visible-report``).

Each mutant of ``tests/catalog/<assignment>.py`` is put into the released notebook (what a
student with that bug would have) and the notebook is run top to bottom, as "Restart & Run All"
does, in a fork of a process that imported the heavy modules once. A mutant is *seen* when at
least one visible check cell (nbgrader ``grade: true``, not a solution) raises: a cell that
only prints values never counts. The unmodified solution must raise in none of them.
"""

from __future__ import annotations

import ast
import json
import os
import select
import signal
import time
from dataclasses import dataclass, field

from autograder.course import Course
from autograder.demo import student_notebook
from autograder.mutation.catalog import ROOT, Entry, apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite
from autograder.worker.main import run_definitions, strip_magics

TIMEOUT = 300.0  # seconds for one notebook run
PRELOAD = ("numpy", "matplotlib.pyplot", "scipy.special", "layerlab.data", "layerlab.gradcheck",
           "layerlab.plots", "layerlab.train", "layerlab.verdicts")  # fmt: skip


@dataclass
class Seen:
    """One notebook run: the visible check cells that raised, ``{cell number: first line}``."""

    entry: Entry | None
    failed: dict[int, str] = field(default_factory=dict)
    problem: str | None = None  # the run itself did not finish (timeout, crash)

    @property
    def seen(self) -> bool:
        return bool(self.failed) or self.problem is not None


@dataclass
class VisibleReport:
    assignment: str
    checks: dict[int, str]  # visible check cells: {JupyterLab number: grade id}
    baseline: Seen
    mutants: list[Seen]
    # Without experiments: check cells that need an experiment's data (the solution fails
    # them too); their failures do not count.
    excluded: dict[int, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return sum(m.seen for m in self.mutants) / max(len(self.mutants), 1)

    def render(self, verbose: bool = False) -> str:
        seen = sum(m.seen for m in self.mutants)
        lines = [
            f"{self.assignment}: {len(self.checks)} visible check cells; catalog mutants seen "
            f"failing: {seen}/{len(self.mutants)} ({100 * self.rate:.0f}%)"
        ]
        if self.baseline.seen:
            lines.append(f"  THE SOLUTION FAILS: {self._where(self.baseline)}")
        if self.excluded:
            shown = ", ".join(f"cell {n} ({self.checks.get(n)})" for n in self.excluded)
            lines.append(f"  not counted (they need the experiments' data): {shown}")
        for m in self.mutants:
            if verbose or not m.seen:
                mark = "seen  " if m.seen else "MISSED"
                lines.append(f"  {mark} {m.entry.id}: {m.entry.description}")
                if verbose and m.seen:
                    lines.append(f"         {self._where(m)}")
        return "\n".join(lines)

    def _where(self, run: Seen) -> str:
        if run.problem:
            return run.problem
        return "; ".join(f"cell {n} ({self.checks.get(n)}): {msg}" for n, msg in run.failed.items())


def visible_checks(notebook) -> dict[int, str]:
    """``{JupyterLab cell number: grade id}`` of the visible check cells."""
    out = {}
    for number, cell in enumerate(notebook.cells, start=1):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            out[number] = meta.get("grade_id", "")
    return out


def visible_report(
    assignment: str,
    jobs: int = 2,
    only: str | None = None,
    experiments: bool = True,
    variants: bool = False,
) -> VisibleReport:
    """Run the released notebook with the solution and with every catalog mutant (those whose
    id contains ``only``, when given), or with every correct variant (``variants``: none may
    be seen). Without ``experiments`` the cells that are neither solutions nor checks keep
    only their definitions (as the judge's fast mode does): quicker, and never more seen."""
    suite = load_suite(assignment)
    course = Course(ROOT)
    cells = solution_cells(suite)
    mutants, correct = load_catalog(assignment)
    if variants:
        mutants = correct
    if only:
        mutants = [m for m in mutants if only in m.id]
    folder = course.assignment(assignment).release_notebook.parent
    notebooks = [student_notebook(course, assignment, cells)]
    for m in mutants:
        notebooks.append(student_notebook(course, assignment, apply_entry(cells, m.replace)))
    checks = visible_checks(notebooks[0])
    _preload()
    runs = _run_all(notebooks, folder, set(checks), jobs, experiments)
    baseline, rest = runs[0], runs[1:]
    excluded = {}
    if not experiments and baseline.problem is None:
        excluded, baseline.failed = baseline.failed, {}
    for run, entry in zip(rest, mutants, strict=True):
        run.entry = entry
        run.failed = {n: m for n, m in run.failed.items() if n not in excluded}
    return VisibleReport(assignment, checks, baseline, rest, excluded)


def _preload() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def _run_all(notebooks, folder, check_numbers: set[int], jobs: int, experiments: bool):
    results: list[Seen | None] = [None] * len(notebooks)
    running: dict[int, tuple[int, int, float]] = {}  # fd -> (index, pid, started)
    queue = list(range(len(notebooks)))
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            index = queue.pop(0)
            fd, pid = _start(notebooks[index], folder, check_numbers, experiments)
            running[fd] = (index, pid, time.monotonic())
        ready, _, _ = select.select(list(running), [], [], 0.5)
        for fd in ready:
            index, pid, _ = running.pop(fd)
            results[index] = _finish(fd, pid)
        for fd, (index, pid, started) in list(running.items()):
            if time.monotonic() - started > TIMEOUT:
                running.pop(fd)
                os.kill(pid, signal.SIGKILL)
                _finish(fd, pid)
                results[index] = Seen(None, problem=f"the notebook ran longer than {TIMEOUT:g} s")
    return [r if r is not None else Seen(None, problem="not run") for r in results]


def _start(notebook, folder, check_numbers: set[int], experiments: bool) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child runs the notebook and writes what failed
        os.close(read_end)
        failed = {}
        try:
            failed = _run_notebook(notebook, folder, check_numbers, experiments)
        finally:
            os.write(write_end, json.dumps(failed).encode())
            os._exit(0)
    os.close(write_end)
    return read_end, pid


def _finish(fd: int, pid: int) -> Seen:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    try:
        failed = json.loads(b"".join(chunks) or b"null")
    except ValueError:
        failed = None
    if not isinstance(failed, dict):
        return Seen(None, problem=f"the notebook run died (status {status})")
    return Seen(None, {int(k): v for k, v in failed.items()})


def _run_notebook(notebook, folder, check_numbers: set[int], experiments: bool) -> dict[int, str]:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.chdir(folder)
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__"}
    failed = {}
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        graded = "grade_id" in cell.metadata.get("nbgrader", {})
        try:
            source = strip_magics(cell.source)
            if experiments or graded:
                exec(compile(source, f"<cell {number}>", "exec"), namespace)
            else:
                run_definitions(ast.parse(source), f"<cell {number}>", namespace)
        except BaseException as exc:  # noqa: BLE001  (whatever the cell raised)
            if number in check_numbers:
                first = (str(exc).splitlines() or [""])[0]
                failed[number] = f"{type(exc).__name__}: {first}"[:300]
        plt.close("all")
    return failed
