"""Proving the hidden suites: buggy implementations (mutants) must lose points, correct
alternative implementations (variants) must get full marks.

Catalogs live in ``tests/catalog/<assignment>.py`` as two lists, ``MUTANTS`` and ``VARIANTS``,
of ``Entry``. An entry replaces the definitions of some functions in the solution notebook's
code with its own source; the result is graded by the assignment's suite.
"""

from __future__ import annotations

import ast
import importlib.util
import textwrap
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
    definition; ``id`` names the entry, ``description`` says what the bug or variant is."""

    id: str
    description: str
    replace: dict[str, str] = field(default_factory=dict)


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
    scores: tuple[float, ...]
    max_score: float
    messages: tuple[str, ...]

    @property
    def killed(self) -> bool:
        """A mutant's verdict: it lost points under every seed."""
        return all(s < self.max_score for s in self.scores)

    @property
    def full_marks(self) -> bool:
        """A variant's verdict: full marks under every seed."""
        return all(s >= self.max_score for s in self.scores)


def evaluate_entry(suite: Suite, cells: list[str], entry: Entry, seeds) -> EntryOutcome:
    """Grade the solution with ``entry`` applied under each seed."""
    scores, messages = [], []
    for seed in seeds:
        try:
            results = grade_in_process(suite, apply_entry(cells, entry.replace), seed)
        except Exception as exc:  # noqa: BLE001  (an entry that does not even load)
            scores.append(0.0)
            messages.append(f"does not load: {exc}")
            continue
        scores.append(sum(r.score for r in results))
        failed = [f"{r.id}: {r.message}" for r in results if r.status != "passed"]
        messages.append(failed[0] if failed else "")
    return EntryOutcome(entry, tuple(scores), suite.max_score, tuple(messages))


def evaluate_catalog(suite: Suite, seeds=SEEDS, jobs: int = 1):
    """``(mutant outcomes, variant outcomes)`` for the assignment's catalog, each entry graded
    under every seed of ``seeds`` (``jobs`` entries at a time, each in a forked child)."""
    mutants, variants = load_catalog(suite.assignment)
    cells = solution_cells(suite)
    entries = mutants + variants

    def failed(entry: Entry, status: str, why: str) -> EntryOutcome:
        return EntryOutcome(entry, tuple(0.0 for _ in seeds), suite.max_score, (why,) * len(seeds))

    if jobs > 1:
        outcomes = pool_map(
            lambda entry: evaluate_entry(suite, cells, entry, seeds), entries, failed, jobs=jobs
        )
    else:
        outcomes = [evaluate_entry(suite, cells, entry, seeds) for entry in entries]
    return outcomes[: len(mutants)], outcomes[len(mutants) :]
