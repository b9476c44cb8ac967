"""Hostile submissions aimed at what the grader observes of a computation rather than its
result: floating-point warnings hidden from a stability test, and backward passes computed by
numerically differentiating the student's own forward (measured in CPU seconds)."""

import numpy as np
import pytest
from scipy import special

from autograder import checks
from autograder.judge import judge
from autograder.suite import Suite

FP = Suite("a1_activations")


@FP.test("sigmoid_stability", 1, ["sigmoid_forward"], timeout=10)
def _sigmoid_stability(t):
    x = t.rng.standard_normal((4, 6)) * 3.0
    x[0, :4] = [-1000.0, 1000.0, -800.0, 800.0]
    out = t.call("sigmoid_forward", x)
    checks.no_fp_warnings(t, "sigmoid_forward")
    t.close("sigmoid_forward output", out, special.expit(x), rtol=1e-7, atol=1e-12)


STABLE = """
import numpy as np
def sigmoid_forward(x):
    e = np.exp(-np.abs(x))  # underflows to 0 for large |x|: correct, and not a warning
    np.isclose(x, np.inf)  # numpy's own internal suppression stays in force
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
"""

NAIVE_BODY = "return 1 / (1 + np.exp(-x))"

HIDDEN = {
    "naive": f"import numpy as np\ndef sigmoid_forward(x):\n    {NAIVE_BODY}\n",
    "errstate": "import numpy as np\ndef sigmoid_forward(x):\n"
    f"    with np.errstate(all='ignore'):\n        {NAIVE_BODY}\n",
    "errstate-imported": "from numpy import errstate\nimport numpy as np\n"
    f"def sigmoid_forward(x):\n    with errstate(over='ignore'):\n        {NAIVE_BODY}\n",
    "decorator": "import numpy as np\n@np.errstate(all='ignore')\n"
    f"def sigmoid_forward(x):\n    {NAIVE_BODY}\n",
    "seterr-at-load": "import numpy as np\nnp.seterr(all='ignore')\n"
    f"def sigmoid_forward(x):\n    {NAIVE_BODY}\n",
    "seterr-in-call": "import numpy as np\ndef sigmoid_forward(x):\n"
    f"    np.seterr(all='ignore')\n    {NAIVE_BODY}\n",
    "own-callback": "import numpy as np\ndef sigmoid_forward(x):\n"
    "    np.seterrcall(lambda *a: None)\n    with np.errstate(all='call'):\n"
    f"        {NAIVE_BODY}\n",
    "private-config": "import numpy as np\nfrom numpy._core import _ufunc_config as c\n"
    f"def sigmoid_forward(x):\n    with c.errstate(all='ignore'):\n        {NAIVE_BODY}\n",
    "warnings-filter": "import numpy as np, warnings\nwarnings.filterwarnings('ignore')\n"
    f"def sigmoid_forward(x):\n    {NAIVE_BODY}\n",
}


def run(tmp_path, code):
    path = tmp_path / "sub.py"
    path.write_text(code)
    return judge(path, seed=5, suite=FP).tests[0]


def test_a_stable_sigmoid_passes(tmp_path):
    result = run(tmp_path, STABLE)
    assert result.status == "passed", result.message


@pytest.mark.parametrize("code", HIDDEN.values(), ids=HIDDEN.keys())
def test_hiding_floating_point_warnings_does_not_pass_a_stability_test(tmp_path, code):
    result = run(tmp_path, code)
    assert result.status == "failed"
    assert "floating-point warnings (overflow)" in result.message, result.message


def test_a_forged_report_of_no_warnings_still_fails_on_non_finite_results(tmp_path):
    # The student's process can lie about what it observed; the grading process checks the
    # returned values itself.
    code = """
import contextlib, numpy as np
import judge_worker.fpguard as guard
guard.observing = contextlib.contextmanager(lambda: (yield []))
def sigmoid_forward(x):
    return np.exp(x) / (1 + np.exp(x))
"""
    result = run(tmp_path, code)
    assert result.status == "failed"
    assert "floating-point warnings (non-finite result)" in result.message, result.message


# ----------------------------------------------------------------------------- CPU seconds

SECONDS: dict[str, list[float]] = {}
CPU = Suite("a1_activations")
N = 100


@CPU.test("relu_backward_cost", 1, ["relu_forward", "relu_backward"], timeout=60)
def _relu_backward_cost(t):
    x = t.rng.standard_normal((N, N))
    _, cache = checks.pair(t, "relu_forward", t.call("relu_forward", x, keep=(1,)))
    forward = t.student.last_call_seconds
    dx = t.call("relu_backward", t.rng.standard_normal((N, N)), cache)
    SECONDS.setdefault(t.spec.id, []).append((forward, t.student.last_call_seconds))
    t.check("shape", np.shape(dx) == (N, N))


ANALYTIC = """
import numpy as np
def relu_forward(x):
    return np.maximum(0, x), x
def relu_backward(dout, cache):
    return dout * (cache > 0)
"""

NUMERIC = """
import numpy as np
def relu_forward(x):
    return np.maximum(0, x), x
def relu_backward(dout, cache):
    x, grad, h = cache.copy(), np.zeros_like(cache), 1e-5
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = relu_forward(x)[0]
        x[idx] = old - h
        minus = relu_forward(x)[0]
        x[idx] = old
        grad[idx] = np.sum((plus - minus) * dout) / (2 * h)
    return grad
"""


def test_a_numerically_differentiated_backward_costs_far_more_cpu(tmp_path):
    costs = {}
    for name, code in (("analytic", ANALYTIC), ("numeric", NUMERIC)):
        SECONDS.clear()
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        report = judge(path, seed=2, suite=CPU)
        assert report.tests[0].status == "passed", report.tests[0].message
        ((forward, backward),) = SECONDS["relu_backward_cost"]
        assert forward >= 0 and backward >= 0
        costs[name] = (forward, backward)
    analytic, numeric = costs["analytic"][1], costs["numeric"][1]
    # 2 * N * N forward calls against one pass: a budget of a few forwards is safe.
    assert numeric > 100 * max(analytic, 1e-4), costs
    assert numeric > 20 * max(costs["numeric"][0], 1e-4), costs
