"""a4_normalization: the solution gets full marks, every catalog mutant loses points under
three seeds (0 included) in a test that names its function, every variant gets full marks
under three seeds, recognizing a bug never costs points, every student-written function has a
test with points, the released stubs score zero, the notebook's test cells match the suite."""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from autograder import checks
from autograder.mutation import ROOT, apply_entry, grade_in_process, load_catalog, solution_cells
from autograder.suite import Suite
from autograder.suites import load_suite

SUITE = load_suite("a4_normalization")
MUTANTS, VARIANTS = load_catalog("a4_normalization")
SEEDS = (0, 1, 2)
NOTEBOOK = ROOT / "solutions" / "a4_normalization" / "a4_normalization.ipynb"


@pytest.fixture(scope="module")
def cells() -> list[str]:
    return solution_cells(SUITE)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # tiny arrays: threads only add overhead (and contention under pytest -n)
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize("seed", SEEDS)
def test_solution_full_marks(cells, seed):
    results = grade_in_process(SUITE, cells, seed)
    failed = {r.id: r.message for r in results if r.status != "passed"}
    assert not failed
    assert sum(r.score for r in results) == SUITE.max_score


def _affected(entry) -> Suite:
    """The tests that list a replaced definition (a bug must lose points in a test that names
    its function; running only those keeps three seeds per mutant affordable)."""
    names = set(entry.replace)
    sub = Suite(SUITE.assignment)
    sub.tests = [spec for spec in SUITE.tests if names & set(spec.functions)]
    assert sub.tests, f"{entry.id}: no hidden test lists {sorted(names)}"
    return sub


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_mutant_rejected_under_every_seed(cells, entry):
    suite = _affected(entry)
    mutated = apply_entry(cells, entry.replace)
    for seed in SEEDS:
        results = grade_in_process(suite, mutated, seed)
        assert sum(r.score for r in results) < suite.max_score, f"{entry.id}: seed {seed}"
        for r in results:
            if r.status != "passed":
                assert any(f.split(".")[0] in r.message for f in r.functions), r.message


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_recognizing_a_bug_never_costs_points(cells, entry):
    """The same mutant graded with and without bug recognition: equal scores, test by test
    (numpy's global generator is reset first: some mutants draw from it)."""
    suite = _affected(entry)
    mutated = apply_entry(cells, entry.replace)
    np.random.seed(0)  # noqa: NPY002  (the mutants draw from the legacy global state)
    recognized = [r.score for r in grade_in_process(suite, mutated, 0)]
    np.random.seed(0)  # noqa: NPY002  (the mutants draw from the legacy global state)
    with checks.without_bug_recognition():
        plain = [r.score for r in grade_in_process(suite, mutated, 0)]
    assert recognized == plain, entry.id


def test_some_bug_is_recognized(cells):
    """The recognition above is exercised: a known bug gets its own message."""
    entry = next(m for m in MUTANTS if m.id == "bn_eps_outside_sqrt")
    mutated = apply_entry(cells, entry.replace)
    recognized = grade_in_process(_affected(entry), mutated, 0)
    with checks.without_bug_recognition():
        plain = grade_in_process(_affected(entry), mutated, 0)
    assert any("outside the square root" in r.message for r in recognized)
    assert not any("outside the square root" in r.message for r in plain)


@pytest.mark.parametrize("entry", VARIANTS, ids=[e.id for e in VARIANTS])
def test_variant_full_marks_under_every_seed(cells, entry):
    for seed in SEEDS:
        results = grade_in_process(SUITE, apply_entry(cells, entry.replace), seed)
        failed = {r.id: r.message for r in results if r.status != "passed"}
        assert not failed, f"seed {seed}"


def test_every_solution_function_has_a_test_with_points():
    """Every top-level function or class of a solution cell is listed by a hidden test."""
    nb = json.loads(NOTEBOOK.read_text())
    defined = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution"):
            tree = ast.parse("".join(cell["source"]))
            defined |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    listed = {f for spec in SUITE.tests if spec.points > 0 for f in spec.functions}
    assert defined, "no solution cell defines a function"
    assert defined <= listed, sorted(defined - listed)


def test_released_stubs_score_zero(cells):
    stubs = {}
    for name in SUITE.functions:
        if name[0].isupper():
            stubs[name] = (
                f"class {name}:\n    def __init__(self, *args, **kwargs):\n"
                "        raise NotImplementedError()\n"
            )
        else:
            stubs[name] = f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
    results = grade_in_process(SUITE, apply_entry(cells, stubs), 0)
    assert sum(r.score for r in results) == 0
    assert all(r.status == "error" for r in results)
    assert all("NotImplementedError" in r.message for r in results)


def test_notebook_cells_match_suite():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["metadata"]["layerlab"]["assignment"] == "a4_normalization"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    ids = {t.id: t.points for t in SUITE.tests}
    graded = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id") in ids:
            assert cell["cell_type"] == "code"
            assert meta["grade_id"] not in graded, f"duplicate cell {meta['grade_id']}"
            graded[meta["grade_id"]] = meta["points"]
            source = "".join(cell["source"])
            assert f'grade_cell("a4_normalization", "{meta["grade_id"]}", globals())' in source
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    assert graded == ids


def test_solution_cells_have_markers():
    nb = json.loads(NOTEBOOK.read_text())
    solutions = [
        "".join(c["source"])
        for c in nb["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("solution") and c["cell_type"] == "code"
    ]
    joined = "\n".join(solutions)
    for name in SUITE.functions:
        assert f"def {name}(" in joined or f"class {name}" in joined, name
    for source in solutions:
        assert source.count("### BEGIN SOLUTION") == source.count("### END SOLUTION") >= 1
