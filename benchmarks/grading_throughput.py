"""Grading throughput: plain ``nbgrader autograde`` against ``python -m autograder grade``.

Every run grades the same submissions (correct ones and catalog mutants, cycled) with the same
hidden tests: plain nbgrader runs the hidden cells inside each student's kernel; ours runs the
judge in the three modes (``whole`` notebook, ``fast`` = definitions only, ``feedback`` =
whole plus each notebook executed in a sandboxed kernel for its feedback page). Each course has
the assignment registered in its gradebook first (``nbgrader generate_assignment``, untimed,
once per course in real use too); the timings cover grading, the gradebook, the CSV and the
class summary. Prints seconds, submissions per minute and the ratio to plain nbgrader on the
same submissions in the same run.

Plans (``--plan``):

- ``targets``: 200 a1 submissions plain, whole and fast; 500 a4 submissions fast.
- ``full``: every assignment, 200 submissions, plain and the three modes; 500 a4 fast.
- ``quick``: every assignment, 10 submissions, plain and the three modes (for development).

    python benchmarks/grading_throughput.py [--plan targets] [--jobs 2]
    python benchmarks/grading_throughput.py --assignment a2_losses --n 50 --modes plain fast
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.demo import build_course, write_class  # noqa: E402

PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
"""


def make_course(dest: Path, assignment: str, n: int, plain: bool):
    course = build_course(dest)
    if plain:
        (dest / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(root=str(dest)))
    write_class(course, assignment, n)
    return course


def register(course, assignment: str) -> None:
    """Put the assignment in the course's gradebook, untimed, as every course does once."""
    with tempfile.TemporaryDirectory() as scratch:
        timed([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
               f"--CourseDirectory.release_directory={scratch}"], course.root)  # fmt: skip


def timed(cmd: list[str], cwd: Path) -> float:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)  # plain nbgrader's kernels import the hidden suites
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return time.monotonic() - started


A1, A4 = "a1_activations", "a4_normalization"
ALL = ("a1_activations", "a2_losses", "a3_backprop", "a4_normalization")
MODES = {"plain": None, "whole": [], "fast": ["--fast"], "feedback": ["--feedback"]}
PLANS = {
    "targets": [(A1, 200, ("plain", "whole", "fast")), (A4, 500, ("fast",))],
    "full": [(a, 200, tuple(MODES)) for a in ALL] + [(A4, 500, ("fast",))],
    "quick": [(a, 10, tuple(MODES)) for a in ALL],
}


def run_one(tmp: Path, assignment: str, n: int, mode: str, jobs: int) -> float:
    """Seconds to grade ``n`` submissions of ``assignment`` in ``mode`` in a fresh course."""
    plain = mode == "plain"
    course = make_course(tmp / f"{assignment}-{n}-{mode}", assignment, n, plain=plain)
    register(course, assignment)
    try:
        if plain:
            return timed([sys.executable, "-m", "nbgrader", "autograde", assignment], course.root)
        seconds = timed([sys.executable, "-m", "autograder", "grade", assignment, "--no-progress",
                         "--jobs", str(jobs), *MODES[mode]], course.root)  # fmt: skip
        check_scores(course.root / f"grades-{assignment}.csv", n)
        return seconds
    finally:
        shutil.rmtree(course.root)


def check_scores(grades: Path, n: int) -> None:
    """Stop the benchmark unless the run graded right: every solution (``write_class`` hands
    one in for every third student) with full marks, every catalog mutant without. A grader
    that fails every submission is fast, and must not be reported as a speed."""
    with open(grades, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    wrong = []
    for i in range(n):
        row = rows.get(f"s{i:03d}")
        full = row is not None and float(row["score"]) == float(row["max_score"])
        if row is None or full != (i % 3 == 0):
            wrong.append(f"s{i:03d}: {row['score'] + '/' + row['max_score'] if row else 'missing'}")
    if wrong:
        sys.exit(f"{grades.name}: graded wrong, so the timing means nothing: {wrong[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", choices=list(PLANS), default="targets")
    parser.add_argument("--assignment", help="instead of a plan: one assignment...")
    parser.add_argument("--n", type=int, default=200, help="...this many submissions...")
    parser.add_argument("--modes", nargs="*", choices=list(MODES), default=["plain", "fast"],
                        help="...in these modes")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    plan = [(args.assignment, args.n, tuple(args.modes))] if args.assignment else PLANS[args.plan]
    print(
        f"plan: {args.assignment or args.plan}; {args.jobs} jobs, {os.cpu_count()} cores",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for assignment, n, modes in plan:
            print(f"{n} submissions of {assignment}", flush=True)
            seconds = {mode: run_one(Path(tmp), assignment, n, mode, args.jobs) for mode in modes}
            for mode, spent in seconds.items():
                rate = n / spent * 60
                ratio = f"x{seconds['plain'] / spent:.1f}" if "plain" in seconds else ""
                label = "plain nbgrader autograde" if mode == "plain" else f"grade ({mode})"
                print(
                    f"  {label:<26} {spent:8.1f} s  {rate:8.1f} submissions/min  {ratio}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
