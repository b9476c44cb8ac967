"""a2_losses: the hidden suite against the solution, the catalog and the released stubs.

1. The solution notebook's code scores full marks (several seeds, 0 included).
2. Every mutant of the catalog loses points under each of three seeds (0 included), with
   messages naming the function; recognizing a known bug never changes its score.
3. Every variant of the catalog (another correct implementation) scores full marks under the
   same three seeds.
4. The released stubs score 0; the notebook's graded cells carry the suite's points, and every
   function defined in a solution cell is listed by a hidden test with points.
5. The closed-form gradients of the suite agree with centred differences of its loss oracles.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import checks
from autograder.mutation import (
    ROOT,
    apply_entry,
    load_catalog,
    namespace_from_cells,
    solution_cells,
)
from autograder.suite import LocalStudent, run_test
from autograder.suites import load_suite
from autograder.suites.a2_losses import oracles as O
from layerlab.gradcheck import numerical_gradient

NAME = "a2_losses"
SUITE = load_suite(NAME)
MUTANTS, VARIANTS = load_catalog(NAME)
_spec = importlib.util.spec_from_file_location(
    "a2_catalog", ROOT / "tests" / "catalog" / f"{NAME}.py"
)
CATALOG = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(CATALOG)
NOTEBOOK = ROOT / "solutions" / NAME / f"{NAME}.ipynb"
SEEDS = (0, 1, 2)


@cache
def cells() -> tuple[str, ...]:
    return tuple(solution_cells(SUITE))


def grade(replace: dict, seed: int, specs=None):
    """Results of ``specs`` (default: every test) on the solution with ``replace`` applied."""
    student = LocalStudent(namespace_from_cells(apply_entry(list(cells()), replace)))
    return [run_test(spec, student, seed) for spec in specs or SUITE.tests]


def affected(names) -> list:
    """The tests that call any of ``names`` (the others grade unchanged solution code)."""
    return [spec for spec in SUITE.tests if set(names) & set(spec.functions)]


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_solution_full_marks(seed):
    results = grade({}, seed)
    failed = {r.id: r.message for r in results if r.status != "passed"}
    assert not failed
    assert sum(r.score for r in results) == SUITE.max_score


def test_catalog_ids_unique():
    ids = [e.id for e in MUTANTS + VARIANTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_mutant_rejected(entry):
    """Seed 0: every affected test runs, messages name the function, and recognizing the bug
    changes no score. Seeds 1 and 2: the test named by entry.must_catch (else any affected test)
    takes points."""
    must = entry.must_catch
    specs = sorted(affected(entry.replace), key=lambda s: (s.id != must, s.timeout))
    assert specs, f"mutant {entry.id} replaces no graded function"
    assert must is None or specs[0].id == must, (entry.id, must)
    np.random.seed(0)  # noqa: NPY002  (mutants using the global generator draw the same twice)
    results = grade(entry.replace, 0, specs)
    lost = [r for r in results if r.score < r.max_score]
    assert lost, f"{entry.id} got full marks (seed 0)"
    assert must is None or results[0] in lost, (entry.id, must)
    for r in lost:
        assert any(f in r.message for f in r.functions), (r.id, r.message)
    np.random.seed(0)  # noqa: NPY002
    with checks.without_bug_recognition():
        plain = grade(entry.replace, 0, specs)
    assert [r.score for r in results] == [r.score for r in plain], entry.id
    for seed in SEEDS[1:]:
        student = LocalStudent(namespace_from_cells(apply_entry(list(cells()), entry.replace)))
        candidates = specs[:1] if must else specs
        assert any(
            (r := run_test(spec, student, seed)).score < r.max_score for spec in candidates
        ), f"{entry.id} got full marks (seed {seed})"


@pytest.mark.parametrize("entry", VARIANTS, ids=[e.id for e in VARIANTS])
def test_variant_full_marks(entry):
    for seed in SEEDS:
        failed = {r.id: r.message for r in grade(entry.replace, seed) if r.status != "passed"}
        assert not failed, f"{entry.id} (seed {seed})"


def test_released_stubs_score_zero():
    stubs = {
        name: f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
        for name in SUITE.functions
    }
    results = grade(stubs, 0)
    assert sum(r.score for r in results) == 0
    assert all(r.status == "error" for r in results)


def _notebook():
    return json.loads(NOTEBOOK.read_text())


def test_notebook_cells_match_suite_points():
    nb = _notebook()
    graded = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade"):
            assert meta["grade_id"] not in graded, f"duplicate grade_id {meta['grade_id']}"
            graded[meta["grade_id"]] = meta["points"]
            src = "".join(cell["source"])
            assert f'grade_cell("{NAME}", "{meta["grade_id"]}", globals())' in src
    assert nb["metadata"]["layerlab"]["assignment"] == NAME
    assert graded == {spec.id: spec.points for spec in SUITE.tests}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_every_solution_function_has_a_test_with_points():
    defined = set()
    for cell in _notebook()["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution"):
            tree = ast.parse("".join(cell["source"]))
            defined |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert len(defined) >= 14
    tested = {f for t in SUITE.tests if t.points > 0 for f in t.functions}
    assert defined <= tested, sorted(defined - tested)
    own = {f for t in SUITE.tests if t.points > 0 and len(t.functions) == 1 for f in t.functions}
    assert defined - {"train_linear_classifier"} <= own  # each loss has a test of its own


def test_unshifted_softmax_losses_lose_points():
    """The docstrings of both linear softmax losses require the max shift."""
    for name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        entry = next(e for e in MUTANTS if e.id == f"{name}_no_max_shift")
        for seed in SEEDS:
            result = grade(entry.replace, seed, [SUITE.get(f"{name}_stability")])[0]
            assert result.score < result.max_score and name in result.message


# ----------------------------------------------------------------------------- the oracles


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_closed_form_gradients_match_the_oracles(seed):
    rng = np.random.default_rng(seed)
    for N, C in [(5, 4), (1, 3), (3, 2)]:
        y = O.labels(rng, N, C)
        x = O.push_svm(O.confident(1.5 * rng.standard_normal((N, C)), y), y)
        num = numerical_gradient(lambda v, y=y: O.svm_oracle(v, y), x.copy())
        np.testing.assert_allclose(O.svm_grad(x, y), num, rtol=1e-6, atol=1e-8)
        num = numerical_gradient(lambda v, y=y: O.softmax_oracle(v, y), x.copy())
        np.testing.assert_allclose(O.softmax_grad(x, y), num, rtol=1e-6, atol=1e-8)
        Y = np.where(rng.uniform(size=(N, C)) < 0.5, -1.0, 1.0)
        xm = checks.away_from_kinks(x, [-1.0, 1.0], 0.05)
        num = numerical_gradient(lambda v, Y=Y: O.multilabel_oracle(v, Y), xm.copy())
        np.testing.assert_allclose(O.multilabel_grad(xm, Y), num, rtol=1e-6, atol=1e-8)
    z = O.bce_logits(rng, (3, 4))
    tg = O.bce_targets(rng, (3, 4))
    num = numerical_gradient(lambda v: O.bce_oracle(v, tg), z.copy())
    np.testing.assert_allclose(O.bce_grad(z, tg), num, rtol=1e-6, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_domain_edges_every_seed(seed):
    """Confident rows, tiny probabilities, every class, shifted scores: whatever the seed."""
    rng = np.random.default_rng(seed)
    y = O.labels(rng, 8, 5)
    assert set(y) == set(range(5))
    x = O.confident(rng.standard_normal((8, 5)), y)
    others0, others1 = np.delete(x[0], y[0]), np.delete(x[1], y[1])
    assert x[0, y[0]] - others0.max() >= 40 - 1e-9 and others1.min() - x[1, y[1]] >= 40 - 1e-9
    p = O.distribution(rng, (4, 6), zeros=True)
    assert (p == 0).any(axis=-1).all() and ((p > 0) & (p < 1e-11)).any(axis=-1).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    W, X, _ = O.shifted_problem(rng, 4, 3, 5)
    shifts = (X @ W).mean(axis=1)
    assert shifts.max() > 9e3 and shifts.min() < -9e3
    regs = [O.reg_value(rng, k) for _, _, _, k in O.LINEAR_CASES]
    assert 0.0 in regs and max(regs) > 1
    assert {(1,), (1, 1)} <= set(O.BCE_SHAPES) and any(s[-1] == 1 for s, _ in O.INFO_CASES)
