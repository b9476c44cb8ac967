"""How the worker loads a submission's cells: magics, definitions-only mode, lazy imports."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from autograder.worker.main import LazyImport, run_definitions, strip_magics

ROOT = Path(__file__).resolve().parent.parent


def test_magics_and_shell_escapes_become_pass():
    source = "%matplotlib inline\n!pip install numpy\nfiles = !ls\nx = 1\n  %time y = 2"
    assert strip_magics(source).splitlines() == ["pass", "pass", "pass", "x = 1", "  pass"]
    assert strip_magics("%%timeit\nf(1)") == "pass\nf(1)"


def test_definitions_mode_skips_experiments_and_keeps_going_after_a_failure():
    source = textwrap.dedent(
        """
        import math
        SCALE = math.sqrt(2.0)
        losses = train_for_an_hour()
        BAD = undefined_name + 1
        def f(x):
            return SCALE * x
        """
    )
    namespace = {}
    failures = run_definitions(ast.parse(source), "<cell>", namespace)
    assert [type(e).__name__ for e in failures] == ["NameError"]
    assert namespace["f"](1.0) == 2.0**0.5 and "losses" not in namespace


def test_plotting_imports_are_bound_lazily_and_work_when_used():
    # A fresh interpreter, so that no earlier test has imported matplotlib already.
    script = textwrap.dedent(
        """
        import ast, sys
        from autograder.worker.main import run_definitions
        source = '''
        import matplotlib.pyplot as plt
        import matplotlib.colors
        from matplotlib import cm
        from layerlab.plots import plot_activation
        import numpy as np
        def peak(x):
            return float(np.max(x))
        def colour():
            return matplotlib.colors.to_hex(cm.viridis(0.0)), plt.figure is not None
        plt.rcParams["figure.dpi"] = 80  # plotting configuration: skipped, no import
        matplotlib.colors.EXTRA = 1
        '''
        ns = {}
        assert run_definitions(ast.parse(source), "<cell>", ns) == []
        assert ns["peak"]([1.0, 3.0]) == 3.0
        print("matplotlib" in sys.modules, "layerlab.plots" in sys.modules)
        print(ns["colour"](), callable(ns["plot_activation"]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["False False", "('#440154', True) True"]


def test_lazy_import_reports_what_it_stands_for():
    assert repr(LazyImport("matplotlib", "pyplot")) == "<lazily imported matplotlib.pyplot>"
