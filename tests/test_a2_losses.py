"""a2_losses: the solution scores full marks, every catalogued bug loses points with a message
naming the function, every correct variant scores full marks, the released stubs score zero,
and the notebook's test cells carry the suite's points."""

from __future__ import annotations

import json
from functools import cache

import pytest

from autograder.mutation import (
    ROOT,
    apply_entry,
    grade_in_process,
    load_catalog,
    namespace_from_cells,
    solution_cells,
)
from autograder.suite import LocalStudent, run_test
from autograder.suites import load_suite

ASSIGNMENT = "a2_losses"
SUITE = load_suite(ASSIGNMENT)
MUTANTS, VARIANTS = load_catalog(ASSIGNMENT)
NOTEBOOK = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@cache
def cells() -> tuple[str, ...]:
    return tuple(solution_cells(SUITE))


def affected(names) -> list:
    """The tests that call any of ``names`` (the others grade unchanged solution code)."""
    names = set(names)
    return [spec for spec in SUITE.tests if names & set(spec.functions)]


def grade(entry_cells, specs, seed):
    student = LocalStudent(namespace_from_cells(list(entry_cells)))
    return [run_test(spec, student, seed) for spec in specs]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solution_full_marks(seed):
    results = grade_in_process(SUITE, list(cells()), seed)
    failed = [(r.id, r.message) for r in results if r.status != "passed"]
    assert not failed
    assert sum(r.score for r in results) == SUITE.max_score


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_mutant_rejected(entry):
    specs = affected(entry.replace)
    assert specs, f"mutant {entry.id} replaces no graded function"
    for seed in (0,):  # tests/catalog kills were checked offline with seeds 0-3 as well
        results = grade(apply_entry(list(cells()), entry.replace), specs, seed)
        failed = [r for r in results if r.score < r.max_score]
        assert failed, f"mutant {entry.id} got full marks with seed {seed}"
        for r in failed:
            assert any(name in r.message for name in r.functions), (r.id, r.message)


@pytest.mark.parametrize("entry", VARIANTS, ids=[e.id for e in VARIANTS])
def test_variant_full_marks(entry):
    specs = affected(entry.replace)
    assert specs, f"variant {entry.id} replaces no graded function"
    for seed in (0, 1):
        results = grade(apply_entry(list(cells()), entry.replace), specs, seed)
        failed = [(r.id, r.message) for r in results if r.status != "passed"]
        assert not failed


def test_released_stubs_score_zero():
    stubs = {
        name: f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
        for name in SUITE.functions
    }
    results = grade_in_process(SUITE, apply_entry(list(cells()), stubs), 0)
    assert sum(r.score for r in results) == 0
    assert all(r.status == "error" for r in results)


def test_notebook_cells_match_suite_points():
    nb = json.loads(NOTEBOOK.read_text())
    graded = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade"):
            assert meta["grade_id"] not in graded, f"duplicate grade_id {meta['grade_id']}"
            graded[meta["grade_id"]] = meta["points"]
            src = "".join(cell["source"])
            assert f'grade_cell("{ASSIGNMENT}", "{meta["grade_id"]}", globals())' in src
    assert nb["metadata"]["layerlab"]["assignment"] == ASSIGNMENT
    for spec in SUITE.tests:
        assert spec.id in graded, f"no notebook cell for test {spec.id}"
        assert graded[spec.id] == spec.points, spec.id
    assert set(graded) == {spec.id for spec in SUITE.tests}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
