"""Proving the hidden suites: buggy implementations (mutants) must lose points, correct
alternative implementations (variants) must get full marks.

Catalogs live in ``tests/catalog/<assignment>.py`` as two lists, ``MUTANTS`` and ``VARIANTS``,
of ``Entry``. An entry replaces the definitions of some functions in the solution notebook's
code with its own source; the result is graded by the assignment's suite.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.mutation.pool import pool_map
from autograder.submission import read_submission
from autograder.suite import LocalStudent, Suite, TestResult, run_test
from autograder.worker.main import run_definitions, strip_magics

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Entry:
    """``replace`` maps a function (or class) name to the complete source of its new
    definition; ``id`` names the entry, ``description`` says what the bug or variant is;
    ``must_catch`` names the hidden test that must take points for a mutant, when known."""

    id: str
    description: str
    replace: dict[str, str] = field(default_factory=dict)
    must_catch: str | None = None


@functools.cache
def solution_source(assignment: str, name: str) -> str:
    """The solution notebook's definition of ``name`` (a function or class), nbgrader's
    solution markers removed: the source a catalog entry edits, so no hand copy can drift."""
    from autograder.suites import load_suite

    for cell in solution_cells(load_suite(assignment)):
        try:
            tree = ast.parse(strip_magics(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
                lines = ast.get_source_segment(strip_magics(cell), node).splitlines()
                markers = ("### BEGIN SOLUTION", "### END SOLUTION")
                return "\n".join(ln for ln in lines if ln.strip() not in markers)
    raise KeyError(f"the {assignment} solution defines no {name}")


def edit(assignment: str, entry_id: str, description: str, function: str, old: str, new: str,
         *, test: str, more=()) -> Entry:  # fmt: skip
    """A mutant: the solution's ``function`` with ``old`` (which must occur exactly once)
    replaced by ``new``, and each further ``(function, old, new)`` of ``more`` likewise;
    ``test`` is the hidden test that must take points for it."""
    replace: dict[str, str] = {}
    for fn, before, after in [(function, old, new), *more]:
        source = replace.get(fn) or solution_source(assignment, fn)
        if source.count(before) != 1:
            raise ValueError(f"{entry_id}: {before!r} occurs {source.count(before)} times in {fn}")
        replace[fn] = source.replace(before, after)
    return Entry(entry_id, description, replace, must_catch=test)


def apply_entry(cells: list[str], replace: dict[str, str]) -> list[str]:
    """The code cells with each named top-level definition replaced by the given source."""
    cells = list(cells)
    for name, source in replace.items():
        source = textwrap.dedent(source).strip("\n")
        for i, cell in enumerate(cells):
            try:
                tree = ast.parse(strip_magics(cell))
            except SyntaxError:
                continue
            nodes = [
                n
                for n in tree.body
                if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name
            ]
            if nodes:
                node = nodes[-1]
                start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
                lines = cell.splitlines()
                cells[i] = "\n".join(lines[:start] + source.splitlines() + lines[node.end_lineno :])
                break
        else:
            cells.append(source)
    return cells


def namespace_from_cells(cells: list[str]) -> dict:
    """Execute the definitions of ``cells`` (no experiments, no test cells) in a fresh dict."""
    namespace: dict = {"__name__": "__catalog__"}
    for index, cell in enumerate(cells):
        filename = f"<cell {index + 1}>"
        run_definitions(ast.parse(strip_magics(cell), filename), filename, namespace)
    return namespace


def grade_in_process(suite: Suite, cells: list[str], seed: int) -> list[TestResult]:
    """Grade trusted code (solutions, catalog entries) in this process: fast, no sandbox."""
    student = LocalStudent(namespace_from_cells(cells))
    return [run_test(spec, student, seed) for spec in suite.tests]


def solution_cells(suite: Suite) -> list[str]:
    path = ROOT / "solutions" / suite.assignment / f"{suite.notebook}.ipynb"
    return read_submission(path).cells


def load_catalog(assignment: str):
    """``(MUTANTS, VARIANTS)`` of ``tests/catalog/<assignment>.py``."""
    path = ROOT / "tests" / "catalog" / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"catalog_{assignment}", path)
    if spec is None or not path.exists():
        raise FileNotFoundError(f"no catalog for {assignment} at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS), list(module.VARIANTS)


SEEDS = (0, 1, 1234)  # every verdict holds under each of these


def seeds_with(seed: int) -> tuple[int, ...]:
    """Three seeds: 0, 1 and ``seed`` (or 2 when ``seed`` is 0 or 1)."""
    return (0, 1, seed if seed not in (0, 1) else 2)


@dataclass
class EntryOutcome:
    """Scores of one catalog entry, one per seed, with the first failure message per seed."""

    entry: Entry
    scores: tuple[float | None, ...]  # None: lost points (grading stopped there)
    max_score: float
    messages: tuple[str, ...]

    @property
    def killed(self) -> bool:
        """A mutant's verdict: it lost points under every seed."""
        return all(s is None or s < self.max_score for s in self.scores)

    @property
    def full_marks(self) -> bool:
        """A variant's verdict: full marks under every seed."""
        return all(s is not None and s >= self.max_score for s in self.scores)


def evaluate_entry(
    suite: Suite, cells: list[str], entry: Entry, seeds, stop_at_loss: bool = False, tests=None
) -> EntryOutcome:
    """Grade the solution with ``entry`` applied under each seed, over ``tests`` (default:
    the whole suite, in its order). With ``stop_at_loss`` (mutants: one lost test is all a
    kill needs) a seed stops at its first test that loses points and scores ``None``."""
    tests = suite.tests if tests is None else tests
    scores: list[float | None] = []
    messages: list[str] = []
    for seed in seeds:
        try:
            student = LocalStudent(namespace_from_cells(apply_entry(cells, entry.replace)))
        except Exception as exc:  # noqa: BLE001  (an entry that does not even load)
            scores.append(0.0)
            messages.append(f"does not load: {exc}")
            continue
        total: float | None = 0.0
        first = ""
        for spec in tests:
            result = run_test(spec, student, seed)
            if result.status != "passed":
                first = first or f"{result.id}: {result.message}"
            if stop_at_loss and result.score < spec.points:
                total = None
                break
            total += result.score
        scores.append(total)
        messages.append(first)
    return EntryOutcome(entry, tuple(scores), suite.max_score, tuple(messages))


def tests_by_cost(suite: Suite, cells: list[str], seed: int = 0) -> list:
    """The suite's tests, cheapest first (timed on the solution)."""
    student = LocalStudent(namespace_from_cells(cells))
    cost = {}
    for spec in suite.tests:
        start = time.perf_counter()
        run_test(spec, student, seed)
        cost[spec.id] = time.perf_counter() - start
    return sorted(suite.tests, key=lambda spec: cost[spec.id])


def evaluate_catalog(suite: Suite, seeds=SEEDS, jobs: int = 1):
    """``(mutant outcomes, variant outcomes)`` for the assignment's catalog, each entry graded
    under every seed of ``seeds`` (``jobs`` entries at a time, each in a forked child)."""
    mutants, variants = load_catalog(suite.assignment)
    cells = solution_cells(suite)
    ordered = tests_by_cost(suite, cells)
    is_mutant = {id(m) for m in mutants}

    def work(entry: Entry) -> EntryOutcome:
        stop = id(entry) in is_mutant
        return evaluate_entry(suite, cells, entry, seeds, stop_at_loss=stop, tests=ordered)

    def failed(entry: Entry, status: str, why: str) -> EntryOutcome:
        return EntryOutcome(entry, tuple(0.0 for _ in seeds), suite.max_score, (why,) * len(seeds))

    entries = mutants + variants
    if jobs > 1:
        outcomes = pool_map(work, entries, failed, jobs=jobs)
    else:
        outcomes = [work(entry) for entry in entries]
    return outcomes[: len(mutants)], outcomes[len(mutants) :]
