"""a3_backprop: the solution scores full marks, every catalogued bug loses points under three
seeds (0 included), every catalogued alternative gets full marks under three seeds, recognizing
a bug never costs points, every student-written function has a test with points, the released
stubs score zero, cells match tests."""

from __future__ import annotations

import ast
import json
import time

import numpy as np
import pytest

from autograder import checks
from autograder.mutation import (
    ROOT,
    apply_entry,
    grade_in_process,
    load_catalog,
    namespace_from_cells,
    solution_cells,
)
from autograder.suite import Suite
from autograder.suites import load_suite

SUITE = load_suite("a3_backprop")
CELLS = solution_cells(SUITE)
MUTANTS, VARIANTS = load_catalog("a3_backprop")
NOTEBOOK = ROOT / "solutions" / "a3_backprop" / "a3_backprop.ipynb"
SEEDS = (0, 1, 2)


def _score(results) -> float:
    return sum(r.score for r in results)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_solution_full_marks(seed):
    results = grade_in_process(SUITE, CELLS, seed)
    bad = [(r.id, r.message) for r in results if r.status != "passed"]
    assert not bad
    assert _score(results) == SUITE.max_score


def _affected(entry) -> Suite:
    """The tests that list a replaced definition: the bug must lose points in a test that names
    its function (and running only those keeps three seeds per mutant affordable)."""
    names = set(entry.replace)
    tests = [spec for spec in SUITE.tests if names & set(spec.functions)]
    assert tests, f"{entry.id}: no hidden test lists {sorted(names)}"
    sub = Suite(SUITE.assignment)
    sub.tests = tests
    return sub


@pytest.mark.parametrize("entry", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_rejected_under_every_seed(entry):
    cells = apply_entry(CELLS, entry.replace)
    suite = _affected(entry)
    for seed in SEEDS:
        results = grade_in_process(suite, cells, seed)
        assert _score(results) < suite.max_score, f"{entry.id} got full marks with seed {seed}"
        failed = [r for r in results if r.status != "passed"]
        for r in failed:
            names = set(entry.replace) | set(r.functions)
            assert any(n in r.message for n in names), (r.id, r.message)


@pytest.mark.parametrize("entry", MUTANTS, ids=[m.id for m in MUTANTS])
def test_recognizing_a_bug_never_costs_points(entry):
    """The same mutant graded with and without bug recognition: equal scores, test by test
    (numpy's global generator is reset first: some mutants draw from it)."""
    cells = apply_entry(CELLS, entry.replace)
    suite = _affected(entry)
    np.random.seed(0)  # noqa: NPY002  (some mutants draw from the legacy global state)
    recognized = grade_in_process(suite, cells, seed=0)
    np.random.seed(0)  # noqa: NPY002
    with checks.without_bug_recognition():
        plain = grade_in_process(suite, cells, seed=0)
    assert [r.score for r in recognized] == [r.score for r in plain], entry.id


def test_some_bug_is_recognized():
    """The recognition above is exercised: a known bug gets its own message."""
    entry = next(m for m in MUTANTS if m.id == "l2_half_loss")
    cells = apply_entry(CELLS, entry.replace)
    suite = _affected(entry)
    recognized = grade_in_process(suite, cells, seed=0)
    with checks.without_bug_recognition():
        plain = grade_in_process(suite, cells, seed=0)
    assert any("0.5·reg·sum(W²)" in r.message for r in recognized)
    assert not any("0.5·reg·sum(W²)" in r.message for r in plain)


@pytest.mark.parametrize("entry", VARIANTS, ids=[v.id for v in VARIANTS])
def test_variant_full_marks_under_every_seed(entry):
    cells = apply_entry(CELLS, entry.replace)
    for seed in SEEDS:
        results = grade_in_process(SUITE, cells, seed=seed)
        bad = [(r.id, r.message) for r in results if r.status != "passed"]
        assert not bad, (entry.id, seed)


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


def _released(cells: list[str]) -> list[str]:
    """The cells as nbgrader releases them: each solution region becomes
    ``raise NotImplementedError()`` at the indentation of its BEGIN marker."""
    out = []
    for cell in cells:
        lines, inside = [], False
        for line in cell.splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
                lines.append(line[: len(line) - len(line.lstrip())] + "raise NotImplementedError()")
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif not inside:
                lines.append(line)
        out.append("\n".join(lines))
    return out


def test_released_stubs_score_zero():
    cells = _released(CELLS)
    assert sum(c.count("raise NotImplementedError()") for c in cells) >= len(SUITE.functions)
    results = grade_in_process(SUITE, cells, seed=0)
    assert _score(results) == 0
    assert all(r.status == "error" for r in results)


def test_cells_match_tests():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["metadata"]["layerlab"]["assignment"] == "a3_backprop"
    cells = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cells[meta["grade_id"]] = meta["points"]
            source = "".join(cell["source"])
            assert f'grade_cell("a3_backprop", "{meta["grade_id"]}", globals())' in source
        assert not cell.get("outputs"), "save the notebook without outputs"
    for spec in SUITE.tests:
        assert spec.id in cells, f"no test cell for {spec.id}"
        assert cells[spec.id] == spec.points, spec.id
    assert set(cells) == {spec.id for spec in SUITE.tests}


def test_five_layer_net_reaches_95_percent():
    """The solution's five-layer net: >= 95% test accuracy on digits in under a minute."""
    from layerlab.data import load_digits
    from layerlab.train import Trainer

    ns = namespace_from_cells(CELLS)
    data = load_digits(seed=0, center=True)
    start = time.process_time()
    net = ns["FullyConnectedNet"](
        [100, 100, 100, 100], input_dim=64, num_classes=10, reg=1e-4, weight_scale=0.15, seed=0
    )
    trainer = Trainer(
        net,
        data,
        update_rule=ns["sgd_momentum"],
        optim_config={"learning_rate": 0.05},
        lr_decay=0.95,
        batch_size=50,
        num_epochs=30,
        verbose=False,
        progress=False,
        seed=0,
    )
    trainer.train()
    acc = trainer.check_accuracy(data.X_test, data.y_test)
    assert time.process_time() - start < 60
    assert acc >= 0.95
    assert np.isfinite(trainer.loss_history).all()
