"""Grading throughput: plain ``nbgrader autograde`` against ``python -m autograder grade``.

Both grade the same submissions (correct ones and catalog mutants, cycled) with the same
hidden tests: plain nbgrader runs the hidden cells inside each student's kernel, ours runs the
judge (whole notebook, then ``--fast``). Each course has the assignment registered in its
gradebook first (``nbgrader generate_assignment``, untimed, once per course in real use too);
the timings cover grading, the gradebook, the CSV and the class summary. Prints submissions
per minute and the ratios.

    python benchmarks/grading_throughput.py [--n 200] [--assignment a1_activations] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.demo import build_course, student_notebook  # noqa: E402
from autograder.mutation import apply_entry, load_catalog, solution_cells  # noqa: E402
from autograder.suites import load_suite  # noqa: E402

PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
"""


def make_course(dest: Path, assignment: str, n: int, plain: bool):
    course = build_course(dest)
    if plain:
        (dest / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(root=str(dest)))
    suite = load_suite(assignment)
    cells = solution_cells(suite)
    mutants, _ = load_catalog(assignment)
    for i in range(n):
        code = cells if i % 3 == 0 else apply_entry(cells, mutants[i % len(mutants)].replace)
        folder = dest / "submitted" / f"s{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(
            student_notebook(course, assignment, code), folder / f"{suite.notebook}.ipynb"
        )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--assignment", default="a1_activations")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    py = sys.executable
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain = make_course(tmp / "plain", args.assignment, args.n, plain=True)
        register(plain, args.assignment)
        results["plain nbgrader autograde"] = timed(
            [py, "-m", "nbgrader", "autograde", args.assignment], plain.root
        )
        for label, extra in (("autograder grade", []), ("autograder grade --fast", ["--fast"])):
            course = make_course(tmp / label.replace(" ", "_"), args.assignment, args.n, False)
            register(course, args.assignment)
            results[label] = timed(
                [py, "-m", "autograder", "grade", args.assignment, "--no-progress",
                 "--jobs", str(args.jobs), *extra], course.root,
            )  # fmt: skip
            shutil.rmtree(course.root)
    base = args.n / results["plain nbgrader autograde"] * 60
    print(f"{args.n} submissions of {args.assignment}, {args.jobs} jobs, {os.cpu_count()} cores")
    for label, seconds in results.items():
        rate = args.n / seconds * 60
        print(f"  {label:<28} {seconds:8.1f} s  {rate:8.1f} submissions/min  x{rate / base:.1f}")


if __name__ == "__main__":
    main()
