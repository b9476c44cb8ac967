"""Time the naive (loop) and vectorized linear-classifier losses of the a2_losses solution.

A plain script, not a test: ``.venv/bin/python benchmarks/loss_vectorization.py``. It loads the
solution notebook's definitions, times ``svm_loss_naive`` / ``svm_loss_vectorized`` and
``softmax_loss_naive`` / ``softmax_loss_vectorized`` at N = 500, D = 3073, C = 10 (a CIFAR-10
development batch with a bias feature) and prints the best-of-k times and their ratio. The
ratio depends on the machine: cores, BLAS library and threads (OPENBLAS_NUM_THREADS), and
other load; best-of-k filters out short interruptions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.mutation import namespace_from_cells, solution_cells  # noqa: E402
from autograder.suites import load_suite  # noqa: E402


def best_time(fn, args, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=500)
    parser.add_argument("--D", type=int, default=3073)
    parser.add_argument("--C", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of the naive loss")
    args = parser.parse_args()

    ns = namespace_from_cells(solution_cells(load_suite("a2_losses")))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.N, args.D))
    y = rng.integers(0, args.C, size=args.N)
    W = 1e-4 * rng.standard_normal((args.D, args.C))  # small init: every margin is active
    inputs = (W, X, y, 1e-3)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"N={args.N} D={args.D} C={args.C}, numpy {np.__version__}, BLAS threads: {threads}")
    for loss in ("svm", "softmax"):
        naive, fast = ns[f"{loss}_loss_naive"], ns[f"{loss}_loss_vectorized"]
        (l1, g1), (l2, g2) = naive(*inputs), fast(*inputs)
        assert abs(l1 - l2) <= 1e-10 * abs(l1) and np.allclose(g1, g2, rtol=1e-8, atol=1e-12)
        t_naive = best_time(naive, inputs, args.repeat)
        t_fast = best_time(fast, inputs, 4 * args.repeat)
        print(
            f"{loss:8s} naive {t_naive * 1e3:8.2f} ms   vectorized {t_fast * 1e3:7.2f} ms   "
            f"ratio {t_naive / t_fast:6.1f}x"
        )


if __name__ == "__main__":
    main()
