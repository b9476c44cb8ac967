"""The LMS round trip: grades from nbgrader's gradebook into Canvas's and Moodle's import files,
matched to the class list downloaded from the LMS, and the feedback pages in one zip named the
way each LMS maps uploaded files to students.

The roster files under tests/data/lms/ are laid out as the LMS writes them: Canvas's gradebook
export (CRLF, the "    Points Possible" row, read-only total columns) and Moodle's
participants download (UTF-8 byte-order mark, First name / Last name / Email address).
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.judge import UsageError
from autograder.lms import canvas, moodle
from autograder.lms.export import run
from autograder.lms.records import Person, open_gradebook, points_text
from autograder.lms.roster import match, read_roster
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite

DATA = Path(__file__).resolve().parent / "data" / "lms"
CANVAS_ROSTER = DATA / "canvas-gradebook-export.csv"
MOODLE_ROSTER = DATA / "moodle-participants.csv"
MANUAL = 2.0  # points an instructor gives Ada for one written answer
PENALTY = 5.0  # nbgrader's late penalty on Alan's notebook


def autograder(*args, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# ----------------------------------------------------------------------------- the roster files


def test_canvas_export_is_read_without_its_points_possible_row():
    roster = read_roster(CANVAS_ROSTER)
    assert roster.kind == "canvas"
    assert [p.name for p in roster.people] == ["Hopper, Grace", "Lovelace, Ada", "Turing, Alan"]
    ada = roster.people[1]
    assert (ada.first_name, ada.last_name, ada.lms_user_id, ada.sis_user_id) == (
        "Ada",
        "Lovelace",
        "1001",
        "S1001",
    )
    assert ada.sis_login_id == "alovelace@uni.example" and ada.section == "Deep Learning 101"
    assert roster.columns[0] == "a1_activations (31337)"
    assert canvas.assignment_column(DEMO_ASSIGNMENT, roster.columns, None) == roster.columns[0]
    assert canvas.assignment_column("a2_losses", roster.columns, None) == "a2_losses"


def test_moodle_participants_are_read_through_the_byte_order_mark():
    roster = read_roster(MOODLE_ROSTER)
    assert roster.kind == "moodle"
    assert [(p.first_name, p.last_name, p.email) for p in roster.people] == [
        ("Ada", "Lovelace", "alovelace@uni.example"),
        ("Alan", "Turing", "aturing@uni.example"),
        ("Grace", "Hopper", "ghopper@uni.example"),
    ]


def test_an_unknown_file_is_refused_with_a_sentence(tmp_path):
    other = tmp_path / "grades.csv"
    other.write_text("name,score\nada,3\n")
    with pytest.raises(UsageError, match="neither a Canvas gradebook export"):
        read_roster(other)
    with pytest.raises(UsageError, match="does not exist"):
        read_roster(tmp_path / "nope.csv")


def test_matching_uses_ids_first_and_never_guesses_between_namesakes():
    roster = [
        Person(name="Lee, Kim", first_name="Kim", last_name="Lee", lms_user_id="7"),
        Person(name="Lee, Kim", first_name="Kim", last_name="Lee", lms_user_id="8"),
        Person(name="Ng, Bo", first_name="Bo", last_name="Ng", lms_user_id="9"),
    ]
    graded = [
        Person(student="7"),  # nbgrader id is the Canvas user id
        Person(student="x1", first_name="Kim", last_name="Lee"),  # two rows share the name
        Person(student="x2", name="Bo Ng"),  # name only, unique: matched
        Person(student="x3", name="Somebody Else"),
    ]
    found = match(graded, roster)
    assert {i: p.student for i, p in found.matched.items()} == {0: "7", 2: "x2"}
    assert found.ambiguous == {"x1": [0, 1]}
    assert [p.student for p in found.unknown] == ["x3"]


def test_two_graded_students_claiming_one_row_are_both_ambiguous():
    roster = [Person(name="A", email="a@x.org"), Person(name="B", email="b@x.org")]
    found = match(
        [Person(student="s1", email="A@x.org"), Person(student="s2", email="a@x.org")], roster
    )
    assert found.matched == {} and found.ambiguous == {"s1": [0], "s2": [0]}


def test_upload_names_follow_each_lms():
    ada = Person(
        student="1001",
        first_name="Ada",
        last_name="Lovelace",
        lms_user_id="1001",
        original_file="lovelaceada_LATE_1001_501_a1_activations.ipynb",
    )
    assert canvas.feedback_name(ada, "a1.html") == (
        "Lovelace, Ada (1001)/lovelaceada_LATE_1001_501_a1.html"
    )
    alan = Person(
        student="s2",
        first_name="Alan",
        last_name="Turing",
        original_file="Alan Turing_52_assignsubmission_file_a1_activations.ipynb",
    )
    assert moodle.feedback_name(alan, "a1.html") == "Alan Turing_52_assignsubmission_file_a1.html"
    assert (
        moodle.feedback_name(Person(student="s3", first_name="No", last_name="Id"), "a1.html")
        is None
    )
    assert [points_text(v) for v in (47.0, 46.3333, 0.0, 41.335)] == ["47", "46.33", "0", "41.34"]


# ----------------------------------------------------------------------------- the round trip


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A Canvas download collected (``autograder.intake.collect``) and graded through the CLI:
    Ada (full marks, one written answer graded by hand) and Alan (one bug, LATE, penalised as
    nbgrader's late policy would); Grace is on the roster only."""
    from autograder.intake import collect

    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path_factory.mktemp("export") / "course")
    good = solution_cells(suite)
    buggy = apply_entry(good, load_catalog(DEMO_ASSIGNMENT)[0][0].replace)
    download = course.root.parent / "submissions.zip"
    with zipfile.ZipFile(download, "w") as zf:  # Canvas: lastfirst[_LATE]_USERID_FILEID_NAME
        for prefix, cells in (
            ("lovelaceada_1001_501_", good),
            ("turingalan_LATE_1002_502_", buggy),
        ):
            nb = student_notebook(course, DEMO_ASSIGNMENT, cells)
            zf.writestr(f"{prefix}{suite.notebook}.ipynb", nbformat.writes(nb))
    collect(course.root, DEMO_ASSIGNMENT, download)
    result = autograder(
        "grade", DEMO_ASSIGNMENT, "--fast", "--jobs", "2", "--no-progress", cwd=course.root
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # What formgrader and nbgrader's late policy add after `grade`.
    with open_gradebook(course.root) as gb:
        written = next(
            g
            for g in gb.find_submission_notebook(suite.notebook, DEMO_ASSIGNMENT, "1001").grades
            if g.cell_type == "markdown"
        )
        written.manual_score = MANUAL
        late = gb.find_submission_notebook(suite.notebook, DEMO_ASSIGNMENT, "1002")
        late.late_submission_penalty = PENALTY
        gb.db.commit()
    for student in ("1001", "1002"):  # feedback pages as `grade --feedback` leaves them
        folder = course.root / "feedback" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{suite.notebook}.html").write_text(f"<html><body>{student}</body></html>")
    reports = {
        s: json.loads(p.read_text())
        for s, p in (
            (p.stem, p)
            for p in (course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT).glob("*.json")
        )
    }
    expected = {
        "1001": reports["1001"]["score"] + MANUAL,
        "1002": max(0.0, reports["1002"]["score"] - PENALTY),
    }
    assert reports["1001"]["score"] == suite.max_score > reports["1002"]["score"] > PENALTY
    return course.root, suite, expected


def record(display: str, lms_file: str, late: bool = False, lms_user_id: str = "") -> dict:
    """A student's record in the intake manifest, in the layout ``autograder.intake``
    documents (the LMS's name for the file in ``original_file``)."""
    return {
        "lms_user_id": lms_user_id,
        "display_name": display,
        "first_name": "",
        "last_name": display,
        "email": "",
        "late": late,
        "submitted_at": "2026-11-20T14:03:00Z",
        "original_name": "a1_activations.ipynb",
        "original_file": lms_file,
        "file": f"submitted/x/{DEMO_ASSIGNMENT}/{DEMO_ASSIGNMENT}.ipynb",
        "sha256": "0" * 64,
        "collection": 1,
        "superseded": [],
    }


def write_manifest(root: Path, students: dict) -> None:
    path = root / ".layerlab" / "intake" / f"{DEMO_ASSIGNMENT}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": 1,
        "assignment": DEMO_ASSIGNMENT,
        "notebook": DEMO_ASSIGNMENT,
        "collections": [],
        "students": students,
        "skipped": [],
    }
    path.write_text(json.dumps(data))


def max_points(root: Path) -> float:
    with open_gradebook(root) as gb:
        return gb.find_assignment(DEMO_ASSIGNMENT).max_score


@pytest.mark.slow
def test_canvas_round_trip(graded, tmp_path):
    root, suite, expected = graded
    out, archive = tmp_path / "canvas.csv", tmp_path / "canvas-feedback.zip"
    result = autograder(
        "export",
        DEMO_ASSIGNMENT,
        "--to",
        "canvas",
        "--roster",
        str(CANVAS_ROSTER),
        "--out",
        str(out),
        "--feedback-zip",
        str(archive),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_csv(out)
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "a1_activations (31337)",
    ]
    assert rows[1] == ["    Points Possible", "", "", "", "", points_text(max_points(root))]
    by_id = {r[1]: r for r in rows[2:]}
    assert [r[1] for r in rows[2:]] == ["1004", "1001", "1002"]  # one per roster student
    assert by_id["1001"][:5] == [
        "Lovelace, Ada",
        "1001",
        "S1001",
        "alovelace@uni.example",
        "Deep Learning 101",
    ]
    for student, points in expected.items():
        assert float(by_id[student][5]) == pytest.approx(points, abs=0.005)
    assert by_id["1004"][5] == "0"  # Grace submitted nothing
    assert "1 student in the roster submitted nothing: Hopper, Grace" in result.stdout
    assert f"2 feedback pages written to {archive}" in result.stdout
    with zipfile.ZipFile(archive) as zf:
        names = sorted(zf.namelist())
        assert names == [
            "Lovelace, Ada (1001)/lovelaceada_1001_501_a1_activations.html",
            "Turing, Alan (1002)/turingalan_LATE_1002_502_a1_activations.html",
        ]
        assert zf.read(names[1]) == b"<html><body>1002</body></html>"


@pytest.mark.slow
def test_canvas_blank_for_missing_and_unknown_students_listed(graded, tmp_path):
    root, *_ = graded
    roster = tmp_path / "two.csv"
    lines = CANVAS_ROSTER.read_text().splitlines()
    roster.write_text("\n".join(line for line in lines if "Turing" not in line) + "\n")
    out = tmp_path / "canvas.csv"
    result = autograder(
        "export",
        DEMO_ASSIGNMENT,
        "--to",
        "canvas",
        "--roster",
        str(roster),
        "--out",
        str(out),
        "--missing",
        "blank",
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r[1]: r for r in read_csv(out)[2:]}
    assert set(rows) == {"1004", "1001"} and rows["1004"][5] == ""
    assert "1002 (turingalan): in no row of" in result.stdout


@pytest.mark.slow
def test_moodle_round_trip(graded, tmp_path):
    source, suite, expected = graded
    root = tmp_path / "moodle-course"
    shutil.copytree(source, root)
    write_manifest(
        root,
        {  # as collect records Moodle's "Download all submissions"
            "1001": record(
                "Ada Lovelace", "Ada Lovelace_51_assignsubmission_file_a1_activations.ipynb"
            ),
            "1002": record(
                "Alan Turing",
                "Alan Turing_52_assignsubmission_file_a1_activations.ipynb",
                late=True,
            ),
        },
    )
    with open_gradebook(root) as gb:  # a Moodle collection: the full name in last_name
        gb.update_or_create_student("1001", first_name="", last_name="Ada Lovelace")
        gb.update_or_create_student(
            "1002", first_name="", last_name="Alan Turing", email="aturing@uni.example"
        )
        gb.db.commit()
    out, archive = tmp_path / "moodle.csv", tmp_path / "moodle-feedback.zip"
    result = autograder(
        "export",
        DEMO_ASSIGNMENT,
        "--to",
        "moodle",
        "--roster",
        str(MOODLE_ROSTER),
        "--out",
        str(out),
        "--feedback-zip",
        str(archive),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_csv(out)
    assert rows[0] == [
        "First name",
        "Last name",
        "ID number",
        "Email address",
        "Assignment: a1_activations (Real)",
        "Assignment: a1_activations (Percentage)",
    ]
    by_email = {r[3]: r for r in rows[1:]}
    assert [r[3] for r in rows[1:]] == [
        "alovelace@uni.example",
        "aturing@uni.example",
        "ghopper@uni.example",
    ]
    total = max_points(root)
    for student, email in (("1001", "alovelace@uni.example"), ("1002", "aturing@uni.example")):
        real, percent = by_email[email][4:]
        assert float(real) == pytest.approx(expected[student], abs=0.005)
        assert percent.endswith(" %")  # two decimals of the unrounded score, not of "real"
        assert float(percent[:-2]) == pytest.approx(100 * expected[student] / total, abs=0.005)
    assert by_email["ghopper@uni.example"][4:] == ["0.00", "0.00 %"]
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [
            "Ada Lovelace_51_assignsubmission_file_a1_activations.html",
            "Alan Turing_52_assignsubmission_file_a1_activations.html",
        ]


@pytest.mark.slow
def test_plain_csv_without_roster_keeps_every_graded_student(graded, tmp_path):
    root, _, expected = graded
    out, archive = tmp_path / "plain.csv", tmp_path / "plain.zip"
    result = autograder(
        "export",
        DEMO_ASSIGNMENT,
        "--to",
        "csv",
        "--out",
        str(out),
        "--feedback-zip",
        str(archive),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"1001", "1002"}
    assert float(rows["1002"]["late_penalty"]) == PENALTY and rows["1002"]["late"] == "LATE"
    assert float(rows["1001"]["score"]) == pytest.approx(expected["1001"], abs=0.005)
    assert float(rows["1001"]["manual_pending"]) > 0  # the other written answers
    with zipfile.ZipFile(archive) as zf:
        assert len(zf.namelist()) == 2


@pytest.mark.slow
def test_canvas_without_roster_lists_students_with_no_canvas_id(graded, tmp_path):
    root, *_ = graded
    copy = tmp_path / "course"
    shutil.copytree(root, copy)
    (copy / ".layerlab" / "intake" / f"{DEMO_ASSIGNMENT}.json").unlink()  # gradebook alone
    with open_gradebook(copy) as gb:  # Alan added by hand, without his Canvas id
        gb.find_student("1002").lms_user_id = None
        gb.db.commit()
    result = autograder("export", DEMO_ASSIGNMENT, "--to", "canvas", cwd=copy)
    assert result.returncode == 0, result.stderr[-3000:]
    out = copy / f"grades-{DEMO_ASSIGNMENT}-canvas.csv"  # the default: git ignores grades-*
    assert f"canvas grades written to {out}" in result.stdout
    rows = read_csv(out)[2:]
    assert [r[1] for r in rows] == ["1001"] and rows[0][0] == "lovelaceada"
    assert "1002 (no canvas id in the gradebook or intake)" in result.stdout


def test_export_outside_a_course_is_a_usage_error(tmp_path):
    result = autograder("export", DEMO_ASSIGNMENT, "--to", "canvas", cwd=tmp_path)
    assert result.returncode == 2 and "not a course directory" in result.stderr
    (tmp_path / "nbgrader_config.py").write_text("")
    result = autograder("export", DEMO_ASSIGNMENT, "--to", "canvas", cwd=tmp_path)
    assert result.returncode == 2 and "grade the assignment first" in result.stderr


def test_a_roster_of_the_other_lms_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("")
    with pytest.raises(UsageError, match="is a canvas roster but --to is moodle"):
        run(tmp_path, DEMO_ASSIGNMENT, "moodle", CANVAS_ROSTER, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
