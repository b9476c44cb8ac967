"""The notebooks' visible checks can fail, and do for the known bugs.

Every visible check cell of a released notebook checks inside ``with checks(...)`` (so a
difference raises ``CheckFailed`` at the end of the cell), the solution passes all of them,
at least 80% of the hand catalog's mutants make at least one of them fail, and none of its
correct variants does. Experiment cells run as definitions only here (``make mutation`` runs
them too), which can only lower the share seen (a check cell that needs an experiment's data
is then not counted: at most two per notebook).
"""

import nbformat
import pytest

from autograder.course import Course
from autograder.mutation import ROOT
from autograder.mutation.visible import visible_checks, visible_report
from autograder.suites import ASSIGNMENTS

MIN_SEEN = 0.8


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_visible_check_cell_checks_inside_a_checks_block(assignment):
    release = nbformat.read(Course(ROOT).assignment(assignment).release_notebook, 4)
    numbers = visible_checks(release)
    assert numbers
    print_only = [
        f"cell {n} ({grade_id})"
        for n, grade_id in numbers.items()
        if "checks(" not in release.cells[n - 1].source
    ]
    assert not print_only, f"visible checks that cannot fail: {', '.join(print_only)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_passes_and_most_catalog_mutants_fail_a_visible_check(assignment):
    report = visible_report(assignment, jobs=1, experiments=False)
    assert not report.baseline.seen, report.render()
    assert len(report.mutants) >= 50
    assert len(report.excluded) <= 2, report.render()
    assert report.rate >= MIN_SEEN, report.render()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_correct_variant_fails_a_visible_check(assignment):
    report = visible_report(assignment, jobs=1, experiments=False, variants=True)
    assert len(report.mutants) >= 10
    wrongly = [m.entry.id for m in report.mutants if m.seen]
    assert not wrongly, report.render(verbose=True)
