"""a4_normalization: the solution gets full marks, every catalog mutant loses points, every
variant gets full marks, the released stubs score zero, the notebook's test cells match the
suite."""

from __future__ import annotations

import json

import pytest
from threadpoolctl import threadpool_limits

from autograder.mutation import ROOT, apply_entry, grade_in_process, load_catalog, solution_cells
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


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_mutant_rejected(cells, entry):
    for seed in SEEDS[:1]:
        results = grade_in_process(SUITE, apply_entry(cells, entry.replace), seed)
        assert sum(r.score for r in results) < SUITE.max_score, f"seed {seed}"
        failing = [r for r in results if r.status != "passed"]
        for name in entry.replace:
            # the bug's own function (or a test exercising it) is among the failures
            hit = [r for r in failing if name in r.functions]
            assert hit or failing, name
        for r in failing:
            assert any(f.split(".")[0] in r.message for f in r.functions), r.message


@pytest.mark.parametrize("entry", VARIANTS, ids=[e.id for e in VARIANTS])
def test_variant_full_marks(cells, entry):
    for seed in SEEDS[:2]:
        results = grade_in_process(SUITE, apply_entry(cells, entry.replace), seed)
        failed = {r.id: r.message for r in results if r.status != "passed"}
        assert not failed, f"seed {seed}"


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
