"""``python -m autograder demo``: a whole grading run on a throwaway course in ``demo/``.

Copies the course (config, solutions, release) to ``demo/course``, writes sample submissions
(correct, partly wrong, broken, hostile) built from the solution and the mutant catalog,
grades them with ``grade`` and prints the gradebook as nbgrader recorded it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from autograder.course import Course
from autograder.grading import grade_class
from autograder.mutation import ROOT, apply_entry, load_catalog
from autograder.sandbox import SandboxUnavailable, require_sandbox
from autograder.suites import load_suite

DEMO_ASSIGNMENT = "a1_activations"

HOSTILE = """
import numpy as np, os
np.allclose = lambda *a, **k: True            # tamper with the checker's numpy
for target in ["../../gradebook.db", "../../../gradebook.db", "/tmp/../gradebook.db"]:
    try:
        open(target, "w").write("vandalized")   # try to destroy the gradebook
    except OSError:
        pass
def relu_forward(x):
    os._exit(1)                                  # kill the interpreter mid-test
"""


def build_course(dest: Path) -> Course:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    for folder in ("solutions", "assignments"):
        shutil.copytree(ROOT / folder, dest / folder)
    return Course(dest)


def student_notebook(
    course: Course, assignment: str, code_cells: list[str]
) -> nbformat.NotebookNode:
    """The release notebook with its solution cells filled from ``code_cells`` (solution
    notebook order) — what a student who wrote that code would hand in."""
    suite = load_suite(assignment)
    solution = nbformat.read(course.root / "solutions" / assignment / f"{suite.notebook}.ipynb", 4)
    release = nbformat.read(course.assignment(assignment).release_notebook, 4)
    by_id = {}
    code_iter = iter(code_cells)
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        source = next(code_iter, cell.source)
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            by_id[meta.get("grade_id")] = source
    extra = code_cells[len([c for c in solution.cells if c.cell_type == "code"]) :]
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in by_id:
            cell.source = by_id[grade_id]
    for source in extra:
        release.cells.append(nbformat.v4.new_code_cell(source))
    return release


def write_submission(
    course: Course, student: str, assignment: str, code: list[str], name: str | None = None
) -> Path:
    """Hand in ``code`` (solution-notebook order) as ``student``'s notebook (or as the file
    ``name`` beside it); return its path."""
    folder = course.root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{load_suite(assignment).notebook}.ipynb")
    nbformat.write(student_notebook(course, assignment, code), path)
    return path


def write_class(course: Course, assignment: str, n: int, mutants: bool = True) -> None:
    """``n`` submissions ``s000``, ``s001``, ...: the solution, and with ``mutants`` two of
    every three a hand-catalog mutant (cycled), as the benchmarks grade them."""
    from autograder.mutation import solution_cells

    cells = solution_cells(load_suite(assignment))
    catalog = load_catalog(assignment)[0] if mutants else []
    for i in range(n):
        wrong = catalog and i % 3 != 0
        code = apply_entry(cells, catalog[i % len(catalog)].replace) if wrong else cells
        write_submission(course, f"s{i:03d}", assignment, code)


def write_samples(course: Course, assignment: str, hostile: bool = True) -> dict[str, str]:
    """Create the sample submissions (the hostile one only when ``hostile``); return
    ``{student: what it is}``."""
    from autograder.mutation import solution_cells

    suite = load_suite(assignment)
    cells = solution_cells(suite)
    mutants, _ = load_catalog(assignment)
    two_bugs = [mutants[0]]
    two_bugs += [m for m in mutants if not set(m.replace) & set(mutants[0].replace)][:1]
    samples = {
        "alice": ("correct", cells),
        "bob": ("two bugs: " + ", ".join(m.id for m in two_bugs),
                apply_entry(apply_entry(cells, two_bugs[0].replace), two_bugs[1].replace)),
        "dave": ("hostile (patches numpy, vandalizes files, exits)", cells + [HOSTILE]),
    }  # fmt: skip
    if not hostile:
        del samples["dave"]
    described = {}
    for student, (what, code) in samples.items():
        write_submission(course, student, assignment, code)
        described[student] = what
    broken = course.root / "submitted" / "carol" / assignment
    broken.mkdir(parents=True)
    (broken / f"{suite.notebook}.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour')
    described["carol"] = "broken (truncated notebook file)"
    unsubmitted = course.assignment(assignment).release_notebook
    folder = course.root / "submitted" / "erin" / assignment
    folder.mkdir(parents=True)
    shutil.copy2(unsubmitted, folder / unsubmitted.name)
    described["erin"] = "the unmodified release (nothing implemented)"
    return dict(sorted(described.items()))


def gradebook_table(course: Course, assignment: str, described: dict[str, str]) -> str:
    from autograder.gradebook import open_gradebook

    lines = [f"{'student':<8} {'score':>12}  submission", "-" * 80]
    with open_gradebook(course) as gb:
        for student, what in described.items():
            sub = gb.find_submission(assignment, student)
            lines.append(f"{student:<8} {sub.score:>7.2f}/{sub.max_score:<4g}  {what}")
    manual = load_suite(assignment).max_score
    lines.append(f"(maximum includes the hand-graded questions; autograded part: {manual:g})")
    return "\n".join(lines)


def main(dest: Path | None = None, jobs: int = 2) -> int:
    dest = dest or ROOT / "demo" / "course"
    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(dest)
    try:
        require_sandbox()
        sandboxed = True
    except SandboxUnavailable as exc:
        sandboxed = False
        print(f"WARNING: {exc}")
        print("The demo grades its own samples without isolation and leaves out the hostile "
              "one; `sudo make system-deps` shows the sandbox at work.")  # fmt: skip
    described = write_samples(course, DEMO_ASSIGNMENT, hostile=sandboxed)
    print(f"demo course in {course.root}: {len(described)} submissions of {suite.assignment}")
    run = grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=jobs, sandboxed_only=sandboxed)
    print()
    print("nbgrader gradebook:")
    print(gradebook_table(course, DEMO_ASSIGNMENT, described))
    print(f"\nCSV: {run.csv_path}")
    print(f"class summary: {course.root / 'summary' / DEMO_ASSIGNMENT / 'index.html'}")
    if not sandboxed:
        return 0
    dave = json.loads(course.assignment(DEMO_ASSIGNMENT).report_path("dave").read_text())
    failed = [t for t in dave["tests"] if t["status"] != "passed"]
    print(f"dave's hostile submission: {len(failed)} tests lost, e.g. {failed[0]['id']}: "
          f"[{failed[0]['status']}] {failed[0]['message']}" if failed else "")  # fmt: skip
    return 0
