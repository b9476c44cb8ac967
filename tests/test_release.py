"""assignments/ is exactly nbgrader's release of solutions/, with nothing secret in it."""

import filecmp
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course
from autograder.release import generate
from autograder.suites import ASSIGNMENTS

ROOT = Path(__file__).resolve().parent.parent
RELEASED = [a for a in ASSIGNMENTS if (ROOT / "solutions" / a).is_dir()]
SECRETS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "grade_cell", "autograder")


def test_some_assignment_is_released():
    assert RELEASED, "no assignment has a solutions/ folder yet"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", RELEASED)
def test_release_is_regenerated_identically(assignment):
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(Course(ROOT), assignment, Path(tmp))
        committed = ROOT / "assignments" / assignment
        cmp = filecmp.dircmp(generated, committed)
        assert not cmp.left_only and not cmp.right_only, (cmp.left_only, cmp.right_only)
        for name in cmp.common_files:
            assert (generated / name).read_bytes() == (committed / name).read_bytes(), (
                f"assignments/{assignment}/{name} differs from nbgrader's release: run make release"
            )


@pytest.mark.parametrize("assignment", RELEASED)
def test_release_holds_no_solution_and_no_hidden_test(assignment):
    for path in (ROOT / "assignments" / assignment).rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for secret in SECRETS:
                assert secret not in cell.source, f"{path.name}: {secret!r} in a released cell"
            assert not cell.get("outputs"), f"{path.name}: released notebook has outputs"


@pytest.mark.parametrize("assignment", RELEASED)
def test_solutions_are_saved_without_outputs(assignment):
    for path in (ROOT / "solutions" / assignment).rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
