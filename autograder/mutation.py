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
from autograder.worker.main import definitions_only, strip_magics

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
        tree = definitions_only(ast.parse(strip_magics(cell), f"<cell {index + 1}>"))
        exec(compile(tree, f"<cell {index + 1}>", "exec"), namespace)
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
