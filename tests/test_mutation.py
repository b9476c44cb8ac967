"""Machine-made mutants: the generator, the seed rule, the equivalence filter, the pool.

Everything here runs on a tiny notebook and a tiny suite defined below, never on the real
suites (those run in `make mutation`).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.mutation import Entry, EntryOutcome
from autograder.mutation.domains import _away, probes_for
from autograder.mutation.equivalence import Probe, expected_results, invoke, same
from autograder.mutation.generate import Mutant, generate_mutants, solution_regions
from autograder.mutation.run import Context, Outcome, grade_mutants, judge_mutant
from autograder.suite import Suite
from autograder.suite import test_rng as draw_rng

IMPORTS = "import numpy as np"
KNOWN = '''def known(x, y, scale=0.5, mode="fast"):
    """A function exercising every operator class."""
    ### BEGIN SOLUTION
    z = x - y
    m = np.max(z, axis=1, keepdims=True)
    out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8
    mask = z > 0
    if mode == "slow":
        out = out * 2
    return out * mask * scale
    ### END SOLUTION'''


def _edits(mutants, operator):
    return {(m.before, m.after) for m in mutants if m.operator == operator}


@pytest.fixture(scope="module")
def known_mutants():
    return generate_mutants([IMPORTS, KNOWN])


def test_regions_are_the_marked_lines():
    assert solution_regions(KNOWN) == [(3, 11)]


def test_every_mutant_is_one_edit_inside_the_region(known_mutants):
    assert len({m.id for m in known_mutants}) == len(known_mutants)
    for m in known_mutants:
        assert m.cells[0] == IMPORTS
        assert m.cells[1] != KNOWN
        assert m.function == "known" and m.top == "known"
        compile(m.cells[1], "<mutant>", "exec")


@pytest.mark.parametrize(
    "operator, before, after",
    [
        ("arithmetic", "z = x - y", "z = (x + y)"),
        ("comparison", "mask = z > 0", "mask = (z >= 0)"),
        ("comparison", 'if mode == "slow":', "if (mode != 'slow'):"),
        ("constant", "mask = z > 0", "mask = z > 1"),
        ("constant", "out = out * 2", "out = out * 1"),
        (
            "constant",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8",
            "out = np.sqrt(np.abs(z - m)) * 1.0507 + 1e-8",
        ),
        (
            "constant",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 0.0",
        ),
        ("axis", "m = np.max(z, axis=1, keepdims=True)", "m = np.max(z, axis=0, keepdims=True)"),
        ("axis", "m = np.max(z, axis=1, keepdims=True)", "m = np.max(z, axis=-1, keepdims=True)"),
        ("keepdims", "m = np.max(z, axis=1, keepdims=True)", "m = np.max(z, axis=1)"),
        (
            "dropped-term",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8",
            "out = np.sqrt(np.abs(z - m)) + 1e-8",
        ),
        ("dropped-term", "return out * mask * scale", "return out * scale"),
        ("dropped-term", "z = x - y", "z = x"),
        (
            "removed-call",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8",
            "out = np.abs(z - m) * 1.0507009873554805 + 1e-8",
        ),
        (
            "removed-call",
            "out = np.sqrt(np.abs(z - m)) * 1.0507009873554805 + 1e-8",
            "out = np.sqrt((z - m)) * 1.0507009873554805 + 1e-8",
        ),
        ("float32", "return out * mask * scale", "return np.float32(out * mask * scale)"),
        (
            "float32",
            "m = np.max(z, axis=1, keepdims=True)",
            "m = np.float32(np.max(z, axis=1, keepdims=True))",
        ),
        (
            "float32",
            "(nothing)",
            "x = x.astype(np.float32) if isinstance(x, np.ndarray) else x",
        ),
        ("in-place", "z = x - y", "x -= y / z = x"),
        ("in-place", "out = out * 2", "out *= 2"),
        ("dropped-statement", "mask = z > 0", "pass"),
    ],
)
def test_generator_produces_each_operator_class(known_mutants, operator, before, after):
    assert (before, after) in _edits(known_mutants, operator)


@pytest.mark.parametrize(
    "after",
    [
        'def known(x, y, scale=1.0, mode="fast"):',
        'def known(x, y, scale=0.0, mode="fast"):',
        "def known(x, y, scale=0.5, mode='slow'):",  # the other value the body compares with
    ],
)
def test_defaults_change_to_other_legal_values(known_mutants, after):
    assert after in {a for _, a in _edits(known_mutants, "default")}


def test_logic_operators_on_boolean_code():
    cell = '''def g(a, b):
    """Both."""
    ### BEGIN SOLUTION
    return (a > 0) and not b
    ### END SOLUTION'''
    edits = _edits(generate_mutants([cell]), "logic")
    assert ("return (a > 0) and not b", "return (a > 0 or not b)") in edits
    assert ("return (a > 0) and not b", "return (a > 0) and b") in edits


def test_nothing_outside_regions_is_mutated():
    cell = '''def h(x):
    """Outside: x + 1 stays."""
    y = x + 1
    ### BEGIN SOLUTION
    return y
    ### END SOLUTION'''
    for m in generate_mutants([cell]):
        assert "y = x + 1" in m.cells[0]


def test_no_duplicates_and_no_no_ops():
    cell = '''def d(x):
    """."""
    ### BEGIN SOLUTION
    return x - x
    ### END SOLUTION'''
    mutants = generate_mutants([cell])
    assert len({m.cells for m in mutants}) == len(mutants)
    assert all(m.cells[0] != cell for m in mutants)


# ----------------------------------------------------------------------------- tiny suite

RELU = '''def relu(x):
    """max(0, x), x of any shape."""
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, 0.0)
    return out
    ### END SOLUTION


def double(x):
    """2 * relu(x)."""
    ### BEGIN SOLUTION
    return 2.0 * relu(x)
    ### END SOLUTION'''

TINY = Suite("tiny")


@TINY.test("relu_positive", points=1, functions=["relu"])
def _relu_positive(t):
    """Only positive inputs: blind to everything relu does at or below zero."""
    x = t.rng.random((3, 4)) + 0.5
    t.close("relu output", t.call("relu", x), x)


@TINY.test("relu_seed_dependent", points=1, functions=["relu"])
def _relu_seed(t):
    """Looks at a negative entry only when the seed's first draw is below 0.5."""
    x = np.array([1.0, -1.0]) if t.rng.random() < 0.5 else np.array([1.0, 2.0])
    t.close("relu output", t.call("relu", x), np.maximum(x, 0.0))


TINY_PROBES = [
    Probe(
        frozenset({"relu"}),
        "relu edges",
        lambda ns: invoke(ns, "relu", np.array([-2.0, -0.0, 0.0, 1e-300, 3.0])),
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def tiny_context():
    return Context.build(TINY, [IMPORTS, RELU], (0, 1, 2), TINY_PROBES)


def _mutant(mutants, before, after):
    return next(m for m in mutants if m.before == before and m.after == after)


@pytest.fixture(scope="module")
def relu_mutants():
    return generate_mutants([IMPORTS, RELU])


def test_an_equivalent_mutant_is_filtered_out(relu_mutants, tiny_context):
    m = _mutant(relu_mutants, "out = np.where(x > 0, x, 0.0)", "out = np.where((x >= 0), x, 0.0)")
    outcome = judge_mutant(m, tiny_context)
    assert not outcome.killed and outcome.equivalent, outcome


def test_a_non_equivalent_survivor_is_kept(relu_mutants, tiny_context):
    # 0.0 -> 1.0 for the negative branch: the positive-only test and (under some seeds) the
    # seed-dependent one miss it; the probe sees it.
    m = _mutant(relu_mutants, "out = np.where(x > 0, x, 0.0)", "out = np.where(x > 0, x, 1.0)")
    outcome = judge_mutant(m, tiny_context)
    assert not outcome.killed, outcome.scores
    assert not outcome.equivalent and "relu edges" in outcome.why


def test_a_kill_must_hold_under_every_seed(tiny_context):
    cells = (IMPORTS, RELU.replace("np.where(x > 0, x, 0.0)", "np.abs(x)"))
    m = Mutant("x1", "relu", "relu", "manual", 1, 4, "", "", cells)
    blind = [s for s in range(3) if draw_rng(s, "relu_seed_dependent").random() >= 0.5]
    outcome = judge_mutant(m, tiny_context)
    if blind:
        assert not outcome.killed
        assert any(s is not None and s >= outcome.max_score for s in outcome.scores)
    else:
        assert outcome.killed
    assert Outcome(m, (1.0, 0.5, 1.0), 1.0, "graded").killed is False
    assert Outcome(m, (0.5, 0.5, 0.0), 1.0, "graded").killed is True


def test_unprobed_callers_make_a_mutant_non_equivalent(relu_mutants):
    # `double` calls relu and a test calls `double`; with only relu probed, an edit of relu
    # cannot be shown equivalent.
    suite = Suite("tiny2")

    @suite.test("double_shape", points=1, functions=["double"])
    def _shape(t):
        """Shape only."""
        t.check("shape", np.shape(t.call("double", np.ones(3))) == (3,))

    context = Context.build(suite, [IMPORTS, RELU], (0, 1, 2), TINY_PROBES)
    m = _mutant(relu_mutants, "out = np.where(x > 0, x, 0.0)", "out = np.where((x >= 0), x, 0.0)")
    outcome = judge_mutant(m, context)
    assert not outcome.killed and not outcome.equivalent
    assert "double" in outcome.why


def test_the_pool_times_out_a_hanging_mutant(tiny_context):
    hang = (IMPORTS, RELU.replace("out = np.where(x > 0, x, 0.0)", "while True:\n        pass"))
    m = Mutant("x2", "relu", "relu", "manual", 1, 4, "", "", hang)
    fine = Mutant("x3", "relu", "relu", "manual", 1, 4, "", "", (IMPORTS, RELU))
    timed, ok = grade_mutants(tiny_context, [m, fine], jobs=2, timeout=3.0)
    assert timed.status == "timeout" and timed.killed
    assert ok.status == "graded" and not ok.killed and ok.equivalent


def test_same_is_strict_about_dtype_shape_nan_and_ulps():
    a = np.array([1.0, np.nan, np.inf, 0.0])
    assert same(a, a.copy())
    assert not same(a, a.astype(np.float32))
    assert not same(a, a[None])
    b = a.copy()
    b[0] = np.nextafter(1.0, 2.0)
    assert same(a, b)  # one ulp
    b[0] = 1.0 + 1e-12
    assert not same(a, b)
    b = a.copy()
    b[2] = -np.inf
    assert not same(a, b)
    assert not same(1.0, 1)  # an int is not a float
    assert same((1, [2.0], {"k": np.zeros(1)}), (1, [2.0], {"k": np.zeros(1)}))


def test_probes_cover_every_assignment_and_the_solution_passes_them_twice():
    from autograder.mutation.catalog import namespace_from_cells, solution_cells
    from autograder.suites import load_suite

    suite = load_suite("a3_backprop")
    probes = probes_for("a3_backprop")
    first = expected_results(namespace_from_cells(solution_cells(suite)), probes)
    second = expected_results(namespace_from_cells(solution_cells(suite)), probes)
    assert all(same(a, b) for a, b in zip(first, second, strict=True))
    for assignment in ("a1_activations", "a2_losses", "a4_normalization"):
        assert probes_for(assignment)


def test_backward_probes_stay_off_kinks():
    x = np.array([0.0, -0.0, 1e-300, 5.0, 6.0 - 1e-9])
    moved = _away(x, [0.0, 6.0])
    assert np.all(np.abs(moved) >= 1e-3) and np.all(np.abs(moved - 6.0) >= 1e-3)


def test_catalog_verdicts_need_every_seed():
    entry = Entry("e", "an entry")
    assert EntryOutcome(entry, (1.0, 2.0, 1.5), 2.0, ("", "", "")).killed is False
    assert EntryOutcome(entry, (1.0, 1.9, 1.5), 2.0, ("", "", "")).killed is True
    assert EntryOutcome(entry, (2.0, 2.0, 1.9), 2.0, ("", "", "")).full_marks is False
    assert EntryOutcome(entry, (2.0, 2.0, 2.0), 2.0, ("", "", "")).full_marks is True


def _explode(item):
    if item == "boom":
        raise MemoryError("no room")
    return item.upper()


def test_the_pool_reports_a_crashing_item_and_keeps_going():
    from autograder.mutation.pool import pool_map

    results = pool_map(_explode, ["a", "boom", "c"], lambda i, s, w: (s, w), jobs=2, timeout=30)
    assert results[0] == "A" and results[2] == "C"
    assert results[1][0] == "crashed" and "MemoryError" in results[1][1]


def test_only_contract_defaults_change_when_a_table_is_given():
    limited = generate_mutants([IMPORTS, KNOWN], defaults={"known": {"mode"}})
    edits = {a for _, a in _edits(limited, "default")}
    assert edits == {"def known(x, y, scale=0.5, mode='slow'):"}


def test_a_numpy_float_is_a_float():
    assert same(1.0, np.float64(1.0))
    assert not same(1.0, np.float32(1.0))


def test_a_returned_view_of_an_input_is_behaviour():
    ns = {"copy": lambda x: x.copy(), "view": lambda x: x}
    x = np.arange(3.0)
    assert invoke(ns, "copy", x)["aliases"] == []
    assert invoke(ns, "view", x)["aliases"] == [((), 0)]
    assert not same(invoke(ns, "copy", x), invoke(ns, "view", x))
