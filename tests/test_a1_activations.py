"""a1_activations: the hidden suite against the solution, the catalog and the released stubs.

1. The solution notebook's code scores full marks (several seeds).
2. Every mutant of the catalog loses points, with messages naming the function.
3. Every variant of the catalog (another correct implementation) scores full marks.
4. The released stubs (solution blocks replaced by ``raise NotImplementedError()``) score 0.
5. The notebook's graded cells and the suite's tests correspond, with the same points.
6. The suite's derivative oracles agree with high-order finite differences of its forward
   oracles (they are written independently, so this guards the references themselves).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from autograder.mutation import ROOT, apply_entry, grade_in_process, load_catalog, solution_cells
from autograder.suites import a1_activations as S
from autograder.suites import load_suite

NAME = "a1_activations"
SUITE = load_suite(NAME)
MUTANTS, VARIANTS = load_catalog(NAME)
NOTEBOOK = ROOT / "solutions" / NAME / f"{NAME}.ipynb"


@pytest.fixture(scope="module")
def cells() -> list[str]:
    return solution_cells(SUITE)


def _total(results) -> float:
    return sum(r.score for r in results)


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_solution_full_marks(cells, seed):
    results = grade_in_process(SUITE, cells, seed)
    failed = {r.id: r.message for r in results if r.status != "passed"}
    assert not failed
    assert _total(results) == SUITE.max_score


def test_catalog_ids_unique():
    ids = [e.id for e in MUTANTS + VARIANTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", MUTANTS, ids=[e.id for e in MUTANTS])
def test_mutant_rejected(cells, entry):
    for seed in (0, 1):
        results = grade_in_process(SUITE, apply_entry(cells, entry.replace), seed)
        assert _total(results) < SUITE.max_score, f"{entry.id} got full marks (seed {seed})"
        for r in results:
            if r.status != "passed":
                assert any(f in r.message for f in r.functions), (r.id, r.message)


@pytest.mark.parametrize("entry", VARIANTS, ids=[e.id for e in VARIANTS])
def test_variant_full_marks(cells, entry):
    for seed in (0, 1):
        results = grade_in_process(SUITE, apply_entry(cells, entry.replace), seed)
        failed = {r.id: r.message for r in results if r.status != "passed"}
        assert not failed, f"{entry.id} (seed {seed})"


_SOLUTION_BLOCK = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.S | re.M
)


def test_released_stubs_score_zero(cells):
    stubs = [_SOLUTION_BLOCK.sub(r"\1raise NotImplementedError()", c) for c in cells]
    assert sum("NotImplementedError" in c for c in stubs) >= len(SUITE.functions) // 2
    results = grade_in_process(SUITE, stubs, 0)
    assert all(r.score == 0 and r.status == "error" for r in results), [
        (r.id, r.status) for r in results if r.score or r.status != "error"
    ]


def test_every_graded_function_stubbed_scores_zero(cells):
    replace = {
        f: f"def {f}(*args, **kwargs):\n    raise NotImplementedError()" for f in SUITE.functions
    }
    results = grade_in_process(SUITE, apply_entry(cells, replace), 3)
    assert all(r.score == 0 and r.status == "error" for r in results)


def test_notebook_cells_match_suite():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["metadata"]["layerlab"]["assignment"] == NAME
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    points = {t.id: t.points for t in SUITE.tests}
    graded_code = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
            if meta.get("grade"):
                graded_code[meta["grade_id"]] = (meta["points"], "".join(cell["source"]))
    assert set(graded_code) == set(points)
    for test_id, (pts, source) in graded_code.items():
        assert pts == points[test_id], test_id
        assert f'grade_cell("{NAME}", "{test_id}", globals())' in source


def test_suite_points_are_halves():
    for t in SUITE.tests:
        assert t.points > 0 and (2 * t.points) == int(2 * t.points)


# ----------------------------------------------------------------------------- the oracles


def _five_point(f, x, h=1e-3):
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


ELEMENTWISE = [
    ("sigmoid", S.sigmoid_ref, S.dsigmoid_ref, ()),
    ("tanh", S.tanh_ref, S.dtanh_ref, ()),
    ("relu", S.relu_ref, S.drelu_ref, (0.0,)),
    ("leaky", lambda x: S.leaky_ref(x, 0.2), lambda x: S.dleaky_ref(x, 0.2), (0.0,)),
    ("elu", lambda x: S.elu_ref(x, 1.7), lambda x: S.delu_ref(x, 1.7), (0.0,)),
    ("selu", S.selu_ref, S.dselu_ref, (0.0,)),
    ("gelu", S.gelu_ref, S.dgelu_ref, ()),
    ("gelu_tanh", lambda x: S.gelu_ref(x, "tanh"), lambda x: S.dgelu_ref(x, "tanh"), ()),
    ("swish", lambda x: S.swish_ref(x, 1.702), lambda x: S.dswish_ref(x, 1.702), ()),
    (
        "softplus",
        lambda x: S.softplus_ref(x, 2.0, 3.0),
        lambda x: S.dsoftplus_ref(x, 2.0, 3.0),
        (1.5,),
    ),  # fmt: skip
    ("mish", S.mish_ref, S.dmish_ref, ()),
    ("lisht", S.lisht_ref, S.dlisht_ref, ()),
    ("relu6", S.relu6_ref, S.drelu6_ref, (0.0, 6.0)),
]


@pytest.mark.parametrize("name,f,df,kinks", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_derivative_oracles(name, f, df, kinks):
    rng = np.random.default_rng(7)
    x = S.checks.away_from_kinks(rng.uniform(-8, 9, 400), kinks, margin=0.05)
    np.testing.assert_allclose(df(x), _five_point(f, x), rtol=1e-8, atol=1e-9)


def test_reference_values_known():
    assert S.gelu_ref(np.array([1.0]))[0] == pytest.approx(0.8413447460685429, rel=1e-15)
    assert S.selu_ref(np.array([-1.0]))[0] == pytest.approx(-1.1113307378125625, rel=1e-15)
    assert S.softplus_ref(np.array([25.0]))[0] == 25.0
    s = S.softmax_ref(np.array([[1.0, 1.1]]), 1 / 5)
    np.testing.assert_allclose(s, [[0.377540668798145, 0.622459331201855]], rtol=1e-12)


def test_prelu_and_softmax_references():
    rng = np.random.default_rng(3)
    x = S.checks.away_from_kinks(rng.standard_normal((2, 3, 4)), [0.0])
    dout = rng.standard_normal(x.shape)
    for alpha in (0.3, rng.uniform(0.1, 0.5, 4)):
        dx, da = S.prelu_grads_ref(x, alpha, dout)
        np.testing.assert_allclose(dx, S.checks.reference_vjp(S.prelu_ref, [x, alpha], 0, dout),
                                   rtol=1e-8)  # fmt: skip
        num = S.checks.reference_vjp(S.prelu_ref, [x, alpha], 1, dout)
        np.testing.assert_allclose(da, num, rtol=1e-7)
        assert np.shape(da) == np.shape(alpha)
    for T in (1.0, 0.4, 3.0):
        ref = S.softmax_vjp_ref(x, dout, T)
        num = S.checks.reference_vjp(S.softmax_ref, [x, T], 0, dout)
        np.testing.assert_allclose(ref, num, rtol=1e-6, atol=1e-10)
