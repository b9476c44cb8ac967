"""Hostile submissions against the judge: none may gain points, touch files outside its
sandbox, leave a process behind, or disturb the other tests."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from autograder import checks
from autograder.judge import judge
from autograder.sandbox import bwrap_path
from autograder.suite import Suite

ROOT = Path(__file__).resolve().parent.parent

TOY = Suite("a1_activations")


def relu(x):
    return np.maximum(x, 0.0)


@TOY.test("relu_forward", 1, ["relu_forward"], timeout=10)
def _relu_forward(t):
    x = checks.away_from_kinks(t.rng.standard_normal((4, 5)), [0.0])
    checks.forward(t, "relu_forward", [x], relu)


@TOY.test("relu_backward", 1, ["relu_forward", "relu_backward"], timeout=10)
def _relu_backward(t):
    x = checks.away_from_kinks(t.rng.standard_normal((3, 4)), [0.0])
    checks.backward(t, "relu", [x], relu, names=["x"])


@TOY.test("tanh_forward", 1, ["tanh_forward"], timeout=10)
def _tanh_forward(t):
    x = t.rng.standard_normal((2, 3))
    checks.forward(t, "tanh_forward", [x], np.tanh)


GOOD = """
import numpy as np
def relu_forward(x):
    return np.maximum(0, x), x
def relu_backward(dout, cache):
    return dout * (cache > 0)
def tanh_forward(x):
    return np.tanh(x), x
"""

WRONG_RELU = GOOD.replace("np.maximum(0, x), x", "np.abs(x), x")


def grade(tmp_path, code, name="sub.py", seed=7):
    path = tmp_path / name
    path.write_text(code)
    return judge(path, seed=seed, suite=TOY)


def statuses(report):
    return {t.id: t.status for t in report.tests}


def test_correct_submission_full_marks(tmp_path):
    report = grade(tmp_path, GOOD)
    assert report.score == report.max_score == 3.0, report.as_dict()


def test_wrong_relu_fails_with_worst_entry(tmp_path):
    report = grade(tmp_path, WRONG_RELU)
    forward = report.tests[0]
    assert forward.status == "failed" and forward.score == 0.0
    assert "relu_forward output" in forward.message and "at [" in forward.message


@pytest.mark.parametrize(
    "attack",
    [
        "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
        "import numpy\nnumpy.max = lambda *a, **k: 0.0\nnumpy.abs = lambda x: x * 0",
        "import IPython\ntry:\n    IPython.get_ipython().run_cell = lambda *a, **k: None\n"
        "except Exception:\n    pass",
        "import sys\nsys.modules['layerlab'] = None\nsys.modules['autograder'] = None",
    ],
    ids=["patch-allclose", "patch-numpy", "patch-ipython", "patch-modules"],
)
def test_monkeypatching_does_not_change_the_verdict(tmp_path, attack):
    report = grade(tmp_path, WRONG_RELU + "\n" + attack)
    assert report.tests[0].status == "failed"
    assert report.tests[0].score == 0.0
    assert report.tests[2].status == "passed"


def test_exit_in_one_function_costs_only_its_tests(tmp_path):
    code = GOOD.replace("return dout * (cache > 0)", "import os; os._exit(3)")
    report = grade(tmp_path, code)
    assert statuses(report) == {
        "relu_forward": "passed",
        "relu_backward": "error",
        "tanh_forward": "passed",
    }
    assert "exit status 3" in report.tests[1].message


def test_infinite_loop_times_out_only_its_test(tmp_path):
    code = GOOD.replace("return np.tanh(x), x", "while True:\n        pass")
    started = time.monotonic()
    report = grade(tmp_path, code)
    assert statuses(report)["tanh_forward"] == "timeout"
    assert report.score == 2.0
    assert time.monotonic() - started < 30


def test_memory_flood_is_killed(tmp_path):
    code = GOOD.replace(
        "return np.tanh(x), x",
        # 80 MB pages written at a time, then address space that cannot fit under 2 GiB
        "junk = [np.ones(10**7) for _ in range(8)] + [np.empty(4 * 10**8)]\n    return x, x",
    )
    report = grade(tmp_path, code)
    assert statuses(report)["tanh_forward"] == "killed"
    assert "memory" in report.tests[2].message
    assert report.score == 2.0


def test_output_flood_is_capped(tmp_path):
    code = GOOD.replace("return np.tanh(x), x", "print('x' * 10**7)\n    return np.tanh(x), x")
    report = grade(tmp_path, code)
    assert report.score == 3.0


def test_exit_at_module_level_and_syntax_errors_do_not_stop_loading(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "code", "source": "import sys\nsys.exit(1)", "metadata": {}},
            {"cell_type": "code", "source": "def broken(:\n", "metadata": {}},
            {"cell_type": "code", "source": "%matplotlib inline\n!ls\n" + GOOD, "metadata": {}},
        ],
        "metadata": {"nbgrader": {"schema_version": 999}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    report = grade(tmp_path, json.dumps(nb), name="sub.ipynb")
    assert report.score == 3.0
    assert any("SyntaxError" in n for n in report.notes)


def test_invalid_notebook_gets_a_clear_report(tmp_path):
    report = grade(tmp_path, '{"cells": [', name="sub.ipynb")
    assert report.score == 0.0
    assert all(t.status == "error" for t in report.tests)
    assert "not valid JSON" in report.unreadable
    assert sum("not valid JSON" in n for n in report.notes) == 1  # said once, not per test
    assert all(t.message == "not graded: the file could not be read." for t in report.tests)


needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed")


@needs_bwrap
def test_cannot_read_or_write_the_course_directory(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    secret = ROOT / "autograder" / "suite.py"
    code = GOOD.replace(
        "return np.tanh(x), x",
        f"""import os
    seen = []
    for p in [{str(secret)!r}, {str(target)!r}, '/etc/shadow']:
        try:
            seen.append(open(p).read()[:10])
        except Exception:
            pass
    try:
        open({str(target)!r}, 'w').write('pwned')
    except Exception:
        pass
    return (np.tanh(x) if not seen else np.zeros_like(x)), x""",
    )
    report = grade(tmp_path, code)
    assert statuses(report)["tanh_forward"] == "passed"
    assert target.read_text() == "precious"


@needs_bwrap
def test_no_network(tmp_path):
    code = GOOD.replace(
        "return np.tanh(x), x",
        """import socket
    try:
        socket.create_connection(('127.0.0.1', 22), timeout=1)
        return x, x
    except OSError:
        return np.tanh(x), x""",
    )
    assert statuses(grade(tmp_path, code))["tanh_forward"] == "passed"


@needs_bwrap
def test_fork_bomb_is_contained(tmp_path):
    code = GOOD.replace(
        "return np.tanh(x), x",
        """import os
    for _ in range(10000):
        try:
            os.fork()
        except OSError:
            break
    return np.tanh(x), x""",
    )
    report = grade(tmp_path, code)
    assert statuses(report)["relu_forward"] == "passed"


def test_detached_process_is_gone_after_grading(tmp_path):
    marker = tmp_path / "late.txt"
    tag = f"layerlab-late-{uuid.uuid4().hex}"  # this run's own: other runs' leftovers differ
    code = GOOD.replace(
        "return np.tanh(x), x",
        f"""import subprocess, sys
    subprocess.Popen([sys.executable, '-c',
        'import time; time.sleep(3); open("late.txt", "w").write("late")  # {tag}'],
        start_new_session=True)
    return np.tanh(x), x""",
    )
    report = grade(tmp_path, code)
    assert report.score == 3.0
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert tag not in out, "a process outlived the grading"
    time.sleep(4)
    assert not marker.exists()


def test_cli_json_and_exit_codes(tmp_path):
    path = tmp_path / "a1_activations.py"
    path.write_text(GOOD)
    env = dict(os.environ)
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "judge", str(tmp_path / "missing.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 2 and "does not exist" in run.stderr


def test_plots_in_a_whole_notebook_run_use_the_prepared_font_list_and_print_nothing(tmp_path):
    """matplotlib in the sandbox finds a writable cache directory holding the font list made
    once on the grading side: no scan of the system's fonts (fc-list's "Fontconfig error")
    and no warning about a temporary cache directory in the student's output."""
    from autograder.sandbox import Limits, WorkerClient
    from autograder.sandbox.fonts import font_list

    assert font_list() is not None
    cell = (
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot([0, 1], [1, 0])\n"
        "ax.set(title='loss')\n"
        "fig.canvas.draw()\n"
    )
    notebook = tmp_path / "sub.ipynb"
    notebook.write_text("{}")
    with WorkerClient(notebook, [cell], "all", Limits()) as client:
        client.start()
        assert client.load_problems == []
        time.sleep(0.2)  # the output pipe is read by a thread
        output = bytes(client.output).decode(errors="replace")
    assert "cache directory" not in output and "Fontconfig" not in output, output
