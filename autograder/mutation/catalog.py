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

from autograder.submission import read_submission
from autograder.suite import LocalStudent, Suite, TestResult, run_test
from autograder.worker.main import run_definitions, strip_magics

ROOT = Path(__file__).resolve().parent.parent


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


@dataclass
class EntryOutcome:
    entry: Entry
    score: float
    max_score: float
    messages: list[str]

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score


def evaluate_catalog(suite: Suite, seed: int = 1234):
    """``(mutant outcomes, variant outcomes)`` for the assignment's catalog."""
    mutants, variants = load_catalog(suite.assignment)
    cells = solution_cells(suite)

    def outcome(entry: Entry) -> EntryOutcome:
        try:
            results = grade_in_process(suite, apply_entry(cells, entry.replace), seed)
        except Exception as exc:  # noqa: BLE001  (an entry that does not even load)
            return EntryOutcome(entry, 0.0, suite.max_score, [f"does not load: {exc}"])
        score = sum(r.score for r in results)
        messages = [f"{r.id}: {r.message}" for r in results if r.status != "passed"]
        return EntryOutcome(entry, score, suite.max_score, messages)

    return [outcome(m) for m in mutants], [outcome(v) for v in variants]


def mutation_report(suites: list[Suite], seed: int = 1234) -> tuple[str, bool]:
    """The printable report and whether every mutant was killed and every variant passed."""
    lines, perfect = [], True
    for suite in suites:
        mutants, variants = evaluate_catalog(suite, seed)
        killed = sum(not m.full_marks for m in mutants)
        full = sum(v.full_marks for v in variants)
        perfect &= killed == len(mutants) and full == len(variants)
        lines += [
            f"== {suite.assignment}: mutants killed {killed}/{len(mutants)}, "
            f"correct variants at full marks {full}/{len(variants)}",
        ]
        for m in mutants:
            verdict = "KILLED " if not m.full_marks else "SURVIVED"
            first = m.messages[0] if m.messages else "(no failing test)"
            lines.append(f"  {verdict} {m.entry.id:<34} {m.score:g}/{m.max_score:g}  {first}")
        for v in variants:
            verdict = "full   " if v.full_marks else "LOST   "
            first = "" if v.full_marks else (v.messages[0] if v.messages else "")
            lines.append(f"  {verdict} {v.entry.id:<34} {v.score:g}/{v.max_score:g}  {first}")
    return "\n".join(lines), perfect
