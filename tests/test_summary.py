"""The class view: the summary page (whole messages, escaped, integer histogram axis, students
linked to their feedback, the three most common failures per function, manual points) and the
per-student table printed at the end of ``grade``.

The course here is small and real where it matters: an nbgrader gradebook made with nbgrader's
own API (one autograded cell, one written answer to grade by hand), an intake manifest, and
reports shaped like ``python -m autograder judge --json`` plus student, sha256 and mode.
"""

import json
import re
import warnings
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from autograder.summary import (
    class_table,
    draw_scores,
    feedback_href,
    function_failures,
    per_test_rows,
    write_summary,
)

ASSIGNMENT = "a1_activations"
NOTEBOOK = "a1_activations"
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> & </td></table>'
LONG = " ".join(f"word{i}" for i in range(120))  # ~800 characters, longer than any cut


def test_report(student, statuses, messages=None, score=None):
    """A report as ``judge --json`` writes it, for tests relu_forward, relu_backward, softmax."""
    ids = ["relu_forward", "relu_backward", "softmax_forward"]
    functions = [["relu_forward"], ["relu_forward", "relu_backward"], ["softmax_forward"]]
    messages = messages or {}
    tests = [
        {
            "id": i,
            "functions": f,
            "status": s,
            "score": 1.0 if s == "passed" else 0.0,
            "max_score": 1.0,
            "message": "" if s == "passed" else messages.get(i, f"{i} is wrong"),
        }
        for i, f, s in zip(ids, functions, statuses, strict=True)
    ]
    total = sum(t["score"] for t in tests) if score is None else score
    return {
        "assignment": ASSIGNMENT,
        "submission": f"submitted/{student}/{ASSIGNMENT}/x.ipynb",
        "seed": 7,
        "score": total,
        "max_score": 3.0,
        "tests": tests,
        "notes": [],
        "student": student,
        "sha256": "0" * 64,
        "mode": "all",
    }


test_report.__test__ = False  # a helper, not a test


def make_course(root: Path, students: dict[str, dict]) -> Path:
    """A course directory with a real nbgrader gradebook: ``students`` maps an id to
    ``{"first", "last", "auto" (points of the code cell), "manual" (None: not graded yet)}``."""
    from autograder.lms.records import open_gradebook

    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("")
    (root / "gradebook.db").touch()
    with open_gradebook(root) as gb:
        gb.update_or_create_assignment(ASSIGNMENT)
        gb.update_or_create_notebook(NOTEBOOK, ASSIGNMENT)
        gb.update_or_create_grade_cell(
            "relu_forward", NOTEBOOK, ASSIGNMENT, max_score=3.0, cell_type="code"
        )
        gb.update_or_create_grade_cell(
            "q_dead_relu", NOTEBOOK, ASSIGNMENT, max_score=3.0, cell_type="markdown"
        )
        for student, s in students.items():
            gb.update_or_create_student(student, first_name=s["first"], last_name=s["last"])
            with warnings.catch_warnings():  # SQLAlchemy autoflush chatter inside nbgrader
                warnings.simplefilter("ignore")
                gb.add_submission(ASSIGNMENT, student)
            grades = {
                g.name: g for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).grades
            }
            grades["relu_forward"].auto_score = s["auto"]
            grades["q_dead_relu"].manual_score = s.get("manual")
        gb.db.commit()
    return root


def write_manifest(root: Path, late: list[str]) -> None:
    path = root / ".layerlab" / "intake" / f"{ASSIGNMENT}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"students": {s: {"late": True} for s in late}}))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(
        tmp_path_factory.mktemp("summary") / "course",
        {
            "1001": {"first": "Ada", "last": "Lovelace", "auto": 3.0, "manual": 2.0},
            "1002": {"first": "Alan", "last": "Turing", "auto": 1.0, "manual": None},
            "1003": {"first": "Grace", "last": "Hopper", "auto": 0.0, "manual": None},
        },
    )
    write_manifest(root, late=["1002"])
    page = root / "feedback" / "1001" / ASSIGNMENT / f"{NOTEBOOK}.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>feedback</html>")
    return root


def reports_of_the_class():
    return [
        test_report("1001", ["passed"] * 3),
        test_report("1002", ["passed", "failed", "failed"], {"softmax_forward": LONG}),
        test_report(
            "1003",
            ["error", "error", "failed"],
            {"relu_forward": HOSTILE, "relu_backward": HOSTILE},
        ),
    ]


def test_page_escapes_everything_a_student_controls(course):
    reports = reports_of_the_class()
    reports.append(test_report('<b onmouseover="alert(3)">z</b>', ["failed"] * 3))
    page = write_summary(course, ASSIGNMENT, reports).read_text()
    assert "<script>alert" not in page and 'onerror="alert' not in page
    assert "<b onmouseover" not in page and "&lt;b onmouseover=&quot;alert(3)&quot;&gt;" in page
    assert html_unescaped_count(page, HOSTILE) >= 2  # shown, as text, per test and per function
    assert page.count("<script>") == 1  # only the page's own sorting script


def html_unescaped_count(page: str, text: str) -> int:
    import html

    return page.count(html.escape(text))


def test_messages_are_whole_and_wrapped_not_cut(course):
    page = write_summary(course, ASSIGNMENT, reports_of_the_class()).read_text()
    assert LONG in page  # every word, the last one included
    assert re.search(r"\.msg \{[^}]*white-space: pre-wrap", page)


def test_three_most_common_failures_per_function_with_counts():
    reports = [
        test_report(f"s{i}", ["failed", "passed", "passed"], {"relu_forward": m})
        for i, m in enumerate("AAAABBBCCD")
    ]
    counts = function_failures(reports)["relu_forward"].most_common(3)
    assert counts == [("[failed] A", 4), ("[failed] B", 3), ("[failed] C", 2)]
    assert function_failures(reports)["softmax_forward"] == {}
    rows = {r["id"]: r for r in per_test_rows(reports)}
    assert rows["relu_forward"]["passed"] == 0 and rows["relu_backward"]["passed"] == 10


def test_function_table_on_the_page_lists_three_messages_with_counts(tmp_path):
    reports = [
        test_report(f"s{i}", ["failed", "passed", "passed"], {"relu_forward": m})
        for i, m in enumerate("AAAABBBCCD")
    ]
    page = write_summary(tmp_path, ASSIGNMENT, reports).read_text()
    table = page.split('id="functions"')[1].split("</table>")[0]
    row = next(r for r in table.split("<tr>") if "<td>relu_forward</td>" in r)
    found = re.findall(r'class="count">(\d+)&times;</span> <span class="msg">([^<]*)<', row)
    assert found == [("4", "[failed] A"), ("3", "[failed] B"), ("2", "[failed] C")]


def test_histogram_counts_students_in_whole_numbers():
    for scores in ([3.0, 1.0], [0.0, 1.0, 1.5, 2.0, 3.0], [2.0] * 3):
        fig = Figure()
        ax = fig.add_subplot()
        draw_scores(ax, scores, 3.0, ASSIGNMENT)
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_student_table_links_each_feedback_page_relatively(course):
    page_path = write_summary(course, ASSIGNMENT, reports_of_the_class())
    page = page_path.read_text()
    href = feedback_href(ASSIGNMENT, "1001", NOTEBOOK)
    assert f'<a href="{href}">' in page
    assert (page_path.parent / href).resolve() == (
        course / "feedback" / "1001" / ASSIGNMENT / f"{NOTEBOOK}.html"
    ).resolve()
    assert page.count("not generated") == 2  # 1002 and 1003 have no page yet
    assert feedback_href(ASSIGNMENT, "a b/../c", NOTEBOOK).count("/") == 5  # no path escape


def test_page_shows_names_lateness_and_points_still_to_grade(course):
    page = write_summary(course, ASSIGNMENT, reports_of_the_class()).read_text()
    students = page.split('id="students"')[1].split("</table>")[0]
    rows = {re.search(r'<td data-sort="(\d+)">', r)[1]: r for r in students.split("<tr>")[2:]}
    assert "Ada Lovelace" in rows["1001"] and "LATE" not in rows["1001"]
    assert "LATE" in rows["1002"]
    assert '<td data-sort="0">-</td>' in rows["1001"]  # written answer graded
    assert '<td data-sort="3">3</td>' in rows["1002"]  # 3 points still to grade by hand
    assert "2 submissions have 6 points still to grade by hand" in page


def test_class_table_for_the_end_of_grade(course):
    reports = {r["student"]: r for r in reports_of_the_class()}
    previous = {"1001": dict(reports["1001"]), "1002": dict(reports["1002"], score=3.0), "1003": {}}
    table = class_table(course, ASSIGNMENT, reports, previous)
    lines = {line.split()[0]: line for line in table.splitlines()[2:5]}
    assert lines["1001"].split()[1:] == ["Ada", "Lovelace", "3.00/3", "3/3", "-"]
    assert lines["1002"].split()[1:] == [
        "Alan",
        "Turing",
        "1.00/3",
        "1/3",
        "3",
        "LATE",
        "-2.00",
        "(was",
        "3.00)",
    ]
    assert lines["1003"].endswith("new")
    assert "to grade by hand: 6 points over 2 submissions" in table


def test_class_table_without_a_gradebook_says_what_it_does_not_know(tmp_path):
    reports = {r["student"]: r for r in reports_of_the_class()}
    table = class_table(tmp_path, ASSIGNMENT, reports)
    assert "change" not in table.splitlines()[0]
    assert all(line.split()[-1] == "?" for line in table.splitlines()[2:5])


def test_class_table_prints_no_terminal_control_characters(tmp_path):
    report = test_report("x\x1b[2J\x07", ["passed"] * 3)
    table = class_table(tmp_path, ASSIGNMENT, {report["student"]: report})
    assert "\x1b" not in table and "\x07" not in table and "x?[2J?" in table
