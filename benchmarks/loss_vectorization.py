"""Time the naive (loop) and vectorized linear-classifier losses of the a2_losses solution.

A plain script, not a test: ``.venv/bin/python benchmarks/loss_vectorization.py``. It loads the
solution notebook's definitions, times ``svm_loss_naive`` / ``svm_loss_vectorized`` and
``softmax_loss_naive`` / ``softmax_loss_vectorized`` at N = 500, D = 3073, C = 10 and prints
the best-of-k times and their ratio.

Inputs: a CIFAR-10 development batch stand-in, i.e. random pixel values 0..255 with the mean
image subtracted and a constant bias feature (D = 3072 + 1), and W = 1e-4 * standard normal as
at initialization. The values only matter for the SVM's naive loop, whose work grows with the
number of positive margins; that fraction is printed.

Measurement: caches are warm (every function runs once before timing). Rounds alternate
between the naive and the vectorized function, so both see the same background load, and a
sample of the vectorized function repeats it until it lasts about as long as one naive call,
so that an interruption costs both the same. The reported time is the best sample. The ratio
depends on the machine: cores, BLAS library and threads (OPENBLAS_NUM_THREADS), other load
(the load average is printed). ``--products`` also times the two matrix products, in both
operand orders, against one pass over X.
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


def time_per_call(fn, args, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return (time.perf_counter() - start) / number


def best_pair(naive, fast, args, rounds: int) -> tuple[float, float]:
    """Best time per call of ``naive`` and ``fast``, from interleaved samples of equal length."""
    t_naive, t_fast = time_per_call(naive, args, 1), time_per_call(fast, args, 1)
    number = max(1, round(t_naive / t_fast))
    for _ in range(rounds):
        t_naive = min(t_naive, time_per_call(naive, args, 1))
        t_fast = min(t_fast, time_per_call(fast, args, number))
    return t_naive, t_fast


def cifar_like_batch(rng, N: int, D: int, C: int):
    pixels = rng.integers(0, 256, size=(N, D - 1)).astype(np.float64)
    X = np.hstack([pixels - pixels.mean(axis=0), np.ones((N, 1))])
    y = rng.integers(0, C, size=N)
    W = 1e-4 * rng.standard_normal((D, C))
    return W, X, y


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def time_products(W, X, y, rounds: int) -> None:
    G = np.random.default_rng(1).standard_normal((X.shape[0], W.shape[1]))

    def best(fn):
        return min(time_per_call(fn, (), 20) for _ in range(rounds)) * 1e3

    rows = [
        ("one pass over X: X.sum()", lambda: X.sum()),
        ("scores: X @ W", lambda: X @ W),
        ("scores: (W.T @ X.T).T", lambda: (W.T @ X.T).T),
        ("dW: X.T @ G", lambda: X.T @ G),
        ("dW: (G.T @ X).T", lambda: (G.T @ X).T),
    ]
    for name, fn in rows:
        print(f"  {name:26s} {best(fn):7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=500)
    parser.add_argument("--D", type=int, default=3073)
    parser.add_argument("--C", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=15, help="samples of each function")
    parser.add_argument("--products", action="store_true", help="also time the matrix products")
    args = parser.parse_args()

    ns = namespace_from_cells(solution_cells(load_suite("a2_losses")))
    W, X, y = cifar_like_batch(np.random.default_rng(0), args.N, args.D, args.C)
    inputs = (W, X, y, 1e-3)
    scores = X @ W
    margins = scores - scores[np.arange(args.N), y][:, None] + 1.0
    active = ((margins > 0).sum() - args.N) / (args.N * (args.C - 1))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"N={args.N} D={args.D} C={args.C}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"BLAS threads: {threads}, load average: {load_average()}, "
        f"positive SVM margins: {active:.1%}"
    )
    for loss in ("svm", "softmax"):
        naive, fast = ns[f"{loss}_loss_naive"], ns[f"{loss}_loss_vectorized"]
        (l1, g1), (l2, g2) = naive(*inputs), fast(*inputs)
        assert abs(l1 - l2) <= 1e-10 * abs(l1) and np.allclose(g1, g2, rtol=1e-8, atol=1e-12)
        t_naive, t_fast = best_pair(naive, fast, inputs, args.rounds)
        print(
            f"{loss:8s} naive {t_naive * 1e3:8.2f} ms   vectorized {t_fast * 1e3:7.3f} ms   "
            f"ratio {t_naive / t_fast:6.1f}x"
        )
    if args.products:
        print("matrix products (best of samples of 20 calls):")
        time_products(W, X, y, args.rounds)


if __name__ == "__main__":
    main()
