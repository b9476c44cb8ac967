"""a1_activations: the hidden suite against the solution, the catalog and the released stubs.

1. The solution notebook's code scores full marks (several seeds, 0 included).
2. Every mutant of the catalog loses points under each of three seeds (0 included), with
   messages naming the function; recognizing a known bug never changes its score.
3. Every variant of the catalog (another correct implementation) scores full marks under the
   same three seeds.
4. The released stubs (solution blocks replaced by ``raise NotImplementedError()``) score 0.
5. The notebook's graded cells and the suite's tests correspond, with the same points, and
   every function defined in a solution cell is listed by a hidden test with points.
6. The suite's derivative oracles agree with high-order finite differences of its forward
   oracles, and its inputs visit every edge of the legal domain under every seed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
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
from autograder.suites import a1_activations as S
from autograder.suites import load_suite
from autograder.suites.a1_activations import oracles
from layerlab import gradcheck

NAME = "a1_activations"
SUITE = load_suite(NAME)
MUTANTS, VARIANTS = load_catalog(NAME)
_spec = importlib.util.spec_from_file_location(
    "a1_catalog", ROOT / "tests" / "catalog" / f"{NAME}.py"
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


def test_recognized_bug_scores_like_unrecognized():
    """The measured case of the issue: a wrong default slope (0.1) is recognized, and the
    forward test scores the same as with recognition off, and more than one failed sub-check
    per failed comparison would give."""
    wrong = {
        "leaky_relu_forward": "def leaky_relu_forward(x, negative_slope=0.1):\n"
        "    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)\n"
    }
    spec = [SUITE.get("leaky_relu_forward")]
    recognized = grade(wrong, 0, spec)[0]
    with checks.without_bug_recognition():
        plain = grade(wrong, 0, spec)[0]
    assert "default negative_slope is 0.01" in recognized.message
    assert "default negative_slope" not in plain.message
    assert recognized.score == plain.score > 0


_SOLUTION_BLOCK = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.S | re.M
)


def test_released_stubs_score_zero():
    stubs = [_SOLUTION_BLOCK.sub(r"\1raise NotImplementedError()", c) for c in cells()]
    assert sum("NotImplementedError" in c for c in stubs) >= len(SUITE.functions) // 2
    student = LocalStudent(namespace_from_cells(stubs))
    results = [run_test(spec, student, 0) for spec in SUITE.tests]
    assert all(r.score == 0 and r.status == "error" for r in results), [
        (r.id, r.status) for r in results if r.score or r.status != "error"
    ]


def test_every_graded_function_stubbed_scores_zero():
    replace = {
        f: f"def {f}(*args, **kwargs):\n    raise NotImplementedError()" for f in SUITE.functions
    }
    results = grade(replace, 3)
    assert all(r.score == 0 and r.status == "error" for r in results)


def _notebook():
    return json.loads(NOTEBOOK.read_text())


def test_notebook_cells_match_suite():
    nb = _notebook()
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


def test_every_solution_function_has_a_test_with_points():
    defined = set()
    for cell in _notebook()["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution"):
            tree = ast.parse("".join(cell["source"]))
            defined |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert len(defined) >= 30
    tested = {f for t in SUITE.tests if t.points > 0 for f in t.functions}
    assert defined <= tested, sorted(defined - tested)


def test_suite_points_are_halves():
    for t in SUITE.tests:
        assert t.points > 0 and (2 * t.points) == int(2 * t.points)


# ----------------------------------------------------------------------------- contracts


def test_float32_output_fails_although_within_old_tolerance():
    """A float32 gradient is within rtol 1e-7 of the float64 one, and still fails."""
    f32 = {
        "relu_backward": "def relu_backward(dout, cache):\n"
        "    return (dout * (cache > 0)).astype(np.float32)\n"
    }
    result = grade(f32, 0, [SUITE.get("relu_backward")])[0]
    # every comparison of the gradient fails; only "called twice" and the CPU budget pass
    assert result.score < 0.6 and "float64" in result.message


def test_same_is_the_workers_definition():
    """checks.same (the graders'), the worker's same_value and the student-side copy in
    layerlab.gradcheck agree on every kind of value the tests compare."""
    from autograder.worker.main import same_value

    nan = np.array([1.0, np.nan])
    cases = [
        (np.zeros(3), np.zeros(3)),
        (np.zeros(3), np.zeros((3, 1))),
        (nan, nan.copy()),
        (np.array([0.0]), np.array([-0.0])),
        (np.arange(3.0), np.arange(3.0) + 1e-16 * np.arange(3.0)),
        (np.ones(2), np.ones(2, dtype=np.float32)),
    ]
    for a, b in cases:
        assert checks.same(a, b) == same_value(a, b) == gradcheck._same(a, b), (a, b)


# ----------------------------------------------------------------------------- the oracles


def _five_point(f, x, h=1e-3):
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


ELEMENTWISE = [
    (act.name + "-" + "-".join(f"{k}={v}" for k, v in p.items()), act, p)
    for act in oracles.ACTIVATIONS
    for p in act.params(np.random.default_rng(5))
]


@pytest.mark.parametrize("label,act,params", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_derivative_oracles(label, act, params):
    rng = np.random.default_rng(7)
    kinks = act.kinks(params) or (0.0,)
    x = checks.away_from_kinks(rng.uniform(-8, 9, 400), kinks, margin=0.05)
    f = lambda v: act.forward(v, **params)  # noqa: E731
    np.testing.assert_allclose(act.derivative(x, **params), _five_point(f, x), rtol=1e-8, atol=1e-9)


def test_reference_values_known():
    assert S.gelu_ref(np.array([1.0]))[0] == pytest.approx(0.8413447460685429, rel=1e-15)
    assert S.selu_ref(np.array([-1.0]))[0] == pytest.approx(-1.1113307378125625, rel=1e-15)
    assert S.softplus_ref(np.array([25.0]))[0] == 25.0
    s = S.softmax_ref(np.array([[1.0, 1.1]]), 1 / 5)
    np.testing.assert_allclose(s, [[0.377540668798145, 0.622459331201855]], rtol=1e-12)


def test_prelu_and_softmax_references():
    rng = np.random.default_rng(3)
    x = checks.away_from_kinks(rng.standard_normal((2, 3, 4)), [0.0])
    dout = rng.standard_normal(x.shape)
    for alpha in (0.3, 0.0, -0.5, 1.7, rng.uniform(-0.5, 2.0, 4)):
        dx, da = S.prelu_grads_ref(x, alpha, dout)
        np.testing.assert_allclose(
            dx, checks.reference_vjp(S.prelu_ref, [x, alpha], 0, dout), rtol=1e-8
        )
        num = checks.reference_vjp(S.prelu_ref, [x, alpha], 1, dout)
        np.testing.assert_allclose(da, num, rtol=1e-7, atol=1e-9)
        assert np.shape(da) == np.shape(alpha)
    for T in (1.0, 0.4, 3.0):
        ref = S.softmax_vjp_ref(x, dout, T)
        num = checks.reference_vjp(S.softmax_ref, [x, T], 0, dout)
        np.testing.assert_allclose(ref, num, rtol=1e-6, atol=1e-10)


# ----------------------------------------------------------------------------- legal domain


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), kinks=st.sampled_from([(0.0,), (0.0, 6.0), (2.5,)]))
def test_edge_inputs_visit_every_band_every_seed(seed, kinks):
    """Whatever the seed: every side of every kink, both signs in every array of two or more
    entries, the kinks themselves when asked, nothing within the margin otherwise."""
    rng = np.random.default_rng(seed)
    xs = oracles.edge_inputs(rng, kinks=kinks)
    assert [x.shape for x in xs] == oracles.SHAPES
    edges = [-np.inf, *kinks, np.inf]
    for lo, hi in zip(edges, edges[1:], strict=False):
        assert any(((x > lo) & (x < hi)).any() for x in xs), (lo, hi)
    for x in xs:
        assert np.min(np.abs(x[..., None] - np.array(kinks)), initial=1.0) >= oracles.MARGIN * 0.99
        if x.size >= 2 and kinks == (0.0,):
            assert (x < 0).any() and (x > 0).any()
    at = oracles.edge_inputs(np.random.default_rng(seed), kinks=kinks, at_kinks=True)
    flat = np.concatenate([x.ravel() for x in at])
    assert all((flat == k).any() for k in kinks)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_parameter_edges_every_seed(seed):
    """Every parameter edge of the legal domain is tried on every run."""
    rng = np.random.default_rng(seed)
    slopes = [p.get("negative_slope", 0.01) for p in oracles.BY_NAME["leaky_relu"].params(rng)]
    assert 0.0 in slopes and min(slopes) < 0 and max(slopes) > 1 and 0.01 in slopes
    alphas = [p.get("alpha", 1.0) for p in oracles.BY_NAME["elu"].params(rng)]
    assert 0.0 in alphas and min(alphas) < 0 and max(alphas) > 1
    betas = [p.get("beta", 1.0) for p in oracles.BY_NAME["swish"].params(rng)]
    assert 0.0 in betas and min(betas) < 0 and max(betas) > 1
    prelu = [oracles.prelu_alphas(rng, 4, k) for k in range(10)]
    scalars = [a for a in prelu if np.ndim(a) == 0]
    assert 0.0 in scalars and min(scalars) < 0 and max(scalars) > 1
    arrays = np.concatenate([a for a in prelu if np.ndim(a)])
    assert (arrays == 0).any() and (arrays < 0).any() and (arrays > 1).any()
    temps = [p.get("temperature", 1.0) for p in oracles.softmax_temperatures(rng)]
    assert min(temps) < 1 < max(temps)
    big = oracles.softmax_inputs(rng, 0.5)[0] / 0.5
    gaps = np.sort(big, axis=-1)
    assert gaps[0, -1] - gaps[0, -2] > 38 and gaps[1, 1] - gaps[1, 0] > 38
