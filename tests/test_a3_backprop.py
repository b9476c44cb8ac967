"""a3_backprop: the solution scores full marks, every catalogued bug loses points, every
catalogued alternative gets full marks, the released stubs score zero, cells match tests."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

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


def _score(results) -> float:
    return sum(r.score for r in results)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_solution_full_marks(seed):
    results = grade_in_process(SUITE, CELLS, seed)
    bad = [(r.id, r.message) for r in results if r.status != "passed"]
    assert not bad
    assert _score(results) == SUITE.max_score


def _affected(entry) -> Suite:
    """The tests that exercise a replaced definition (all tests for a helper like softmax_loss):
    one of them failing already proves the mutant loses points, at a fraction of the cost."""
    names = set(entry.replace)
    tests = [spec for spec in SUITE.tests if names & set(spec.functions)]
    if not tests or not names <= set(SUITE.functions):
        return SUITE
    sub = Suite(SUITE.assignment)
    sub.tests = tests
    return sub


@pytest.mark.parametrize("entry", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_rejected(entry):
    cells = apply_entry(CELLS, entry.replace)
    suite = _affected(entry)
    results = grade_in_process(suite, cells, seed=7)
    assert _score(results) < suite.max_score, f"{entry.id} got full marks"
    failed = [r for r in results if r.status != "passed"]
    names = set(entry.replace) | {f for r in failed for f in r.functions}
    for r in failed:
        assert any(n in r.message for n in names | set(r.functions)), (r.id, r.message)


@pytest.mark.parametrize("entry", VARIANTS, ids=[v.id for v in VARIANTS])
def test_variant_full_marks(entry):
    cells = apply_entry(CELLS, entry.replace)
    results = grade_in_process(SUITE, cells, seed=3 + VARIANTS.index(entry))
    bad = [(r.id, r.message) for r in results if r.status != "passed"]
    assert not bad, entry.id


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
