"""Feedback: untrusted outputs filtered, the release's cells restored, the notebook executed
only in the sandbox, and ``grade --feedback`` producing nbgrader's HTML pages."""

import base64
import io
import re
import subprocess
import time
import uuid

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from autograder.autograded import manual_points, verdict_outputs
from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.feedback import (
    _read_regular_file,
    autograded_notebook,
    execute_for_feedback,
    sanitize_outputs,
)
from autograder.grading import grade_class
from autograder.mutation import solution_cells
from autograder.suites import load_suite


def png_b64() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def test_outputs_keep_only_text_and_real_images():
    png = png_b64()
    outputs = [
        new_output("stream", name="stdout", text="x" * 50_000),
        new_output(
            "display_data",
            data={
                "text/html": "<script>steal()</script>",
                "application/javascript": "steal()",
                "image/svg+xml": "<svg onload='steal()'/>",
                "text/plain": "<Figure>",
            },
        ),  # fmt: skip
        new_output("display_data", data={"image/png": png}),
        new_output("display_data", data={"image/png": base64.b64encode(b"<html>").decode()}),
        {"output_type": "error", "ename": "E", "evalue": "bad", "traceback": ["l1", 3, "l2"]},
        {"output_type": "update_display_data", "data": {"text/html": "<b>"}},
        "not an output",
    ]
    clean = sanitize_outputs(outputs)
    assert [o.output_type for o in clean] == ["stream", "display_data", "display_data", "error"]
    assert len(clean[0].text) < 20_100 and "more characters hidden" in clean[0].text
    assert dict(clean[1].data) == {"text/plain": "<Figure>"}
    assert dict(clean[2].data) == {"image/png": png}
    assert clean[3].traceback == ["l1", "", "l2"]
    many = sanitize_outputs([new_output("stream", name="stdout", text="a")] * 100)
    assert len(many) == 31 and "70 more outputs hidden" in many[-1].text


def test_reader_refuses_links_and_oversized_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    (tmp_path / "link.ipynb").symlink_to(secret)
    assert _read_regular_file(tmp_path / "link.ipynb", 1000) is None
    assert _read_regular_file(secret, 5) is None
    assert _read_regular_file(secret, 1000) == "instructor only"


def release_notebook():
    def graded(cell, grade_id, **flags):
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False,
                                     "locked": False, "schema_version": 3, **flags}  # fmt: skip
        return cell

    return new_notebook(
        cells=[
            graded(new_markdown_cell("Intro"), "intro", locked=True),
            graded(new_code_cell("def f(x):\n    raise NotImplementedError"), "f", solution=True),
            graded(
                new_code_cell("assert f(1) == 1"), "test_f", grade=True, locked=True, points=2
            ),  # fmt: skip
            graded(
                new_code_cell("assert g() == 0"), "test_g", grade=True, locked=True, points=1
            ),  # fmt: skip
        ]
    )


def test_student_cells_are_reconciled_with_the_release():
    release = release_notebook()
    student = nbformat.reads(nbformat.writes(release), as_version=4)
    student.cells[0].source = "Intro, edited by the student"  # locked markdown
    student.cells[1].source = "def f(x):\n    return x"
    student.cells[1].metadata["nbgrader"]["points"] = 100  # metadata edit
    student.cells[2].source = "pass  # test removed"
    del student.cells[3]  # a deleted test cell
    extra = new_code_cell("print('scratch')")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "fake", "points": 50}
    student.cells.append(extra)
    student.cells.append(new_raw_cell("<script>steal()</script>"))
    student.cells[-1]["id"] = student.cells[1]["id"]  # a duplicate id
    tests = {"test_f": {"id": "test_f", "status": "passed", "score": 2.0, "max_score": 2.0,
                        "message": ""},
             "test_g": {"id": "test_g", "status": "error", "score": 0.0, "max_score": 1.0,
                        "message": "g is missing"}}  # fmt: skip
    nb = autograded_notebook(release, student, tests, verdict_outputs)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert sources[:4] == [
        "Intro",
        "def f(x):\n    return x",
        "assert f(1) == 1",
        "assert g() == 0",
    ]
    assert "points" not in nb.cells[1].metadata["nbgrader"]
    assert nb.cells[4].metadata == {} and nb.cells[5].cell_type == "markdown"
    assert nb.cells[5].source.startswith("```")
    assert "[error] 0 / 1 points" in nb.cells[3].outputs[0].data["text/html"]
    assert "g is missing" in nb.cells[3].outputs[0].data["text/html"]
    assert [o.data["text/plain"] for o in nb.cells[2].outputs] == ["2.0"]  # nbgrader's score
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_unreadable_submission_gets_the_release_with_verdicts():
    release = release_notebook()
    tests = {"test_f": {"id": "test_f", "status": "error", "score": 0.0, "max_score": 2.0,
                        "message": "could not be read"}}  # fmt: skip
    nb = autograded_notebook(release, None, tests, verdict_outputs)
    assert [c.source for c in nb.cells] == [c.source for c in release.cells]
    assert "could not be read" in nb.cells[2].outputs[0].data["text/html"]


HOSTILE_CELLS = [
    "import os, subprocess, sys\nprint('started')",
    # writes outside its directory, reads the course: both must fail inside the sandbox
    "for target in [{course!r} + '/gradebook.db', {course!r} + '/pwned']:\n"
    "    try:\n        open(target, 'a').write('x')\n        print('WROTE', target)\n"
    "    except OSError as exc:\n        print('blocked', type(exc).__name__)",
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(987654)  # {tag}'],\n"
    "                 start_new_session=True); print('detached')",
    "from IPython.display import HTML, display\ndisplay(HTML('<script>steal()</script>'))",
    "while True:\n    pass",
    "print('after the loop')",
    "os._exit(3)",
    "print('never reached')",
]


@pytest.mark.slow
def test_execution_happens_in_the_sandbox_and_survives_hostile_cells(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    tag = f"layerlab-detached-{uuid.uuid4().hex}"  # this run's own, never an older run's
    cells = [new_code_cell(src.format(course=str(course), tag=tag)) for src in HOSTILE_CELLS]
    path = tmp_path / "hostile.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    run = execute_for_feedback(path, cell_seconds=3, total_seconds=120)
    assert run.notebook is not None, run.problem
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in run.notebook.cells]
    assert texts[0] == "started\n"
    assert "WROTE" not in texts[1] and texts[1].count("blocked") == 2
    assert any(o.output_type == "error" for o in run.notebook.cells[4].outputs)  # interrupted
    assert texts[5] == "after the loop\n"
    assert run.notebook.cells[7].outputs == []  # the kernel died at os._exit
    assert "steal()" not in str([c.outputs for c in run.notebook.cells])
    assert (course / "gradebook.db").read_bytes() == b"SQLite format 3\x00"
    assert not (course / "pwned").exists()
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", tag], capture_output=True, text=True)
    assert left.stdout == "", "a process outlived the execution"


@pytest.mark.slow
def test_grade_with_feedback_writes_nbgrader_html_pages(tmp_path):
    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path / "course")
    code = solution_cells(suite)
    for student, cells in (("ann", code), ("ben", None)):
        folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        release = course.assignment(DEMO_ASSIGNMENT).release_notebook
        nb = (student_notebook(course, DEMO_ASSIGNMENT, cells) if cells else
              nbformat.read(release, as_version=4))  # fmt: skip
        nb.cells.append(new_markdown_cell('<img src=x onerror="steal()"> a note'))
        if student == "ben":  # edited metadata aborts plain nbgrader's run for everyone
            graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
            graded[0].metadata["nbgrader"]["schema_version"] = 99
            graded[1].metadata["nbgrader"]["points"] = 1000
        nbformat.write(nb, folder / f"{suite.notebook}.ipynb")
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False, feedback=True)
    pages = {}
    for student in ("ann", "ben"):
        page = course.root / "feedback" / student / DEMO_ASSIGNMENT / f"{suite.notebook}.html"
        pages[student] = page.read_text()
        assert not re.search(r"<img[^>]*onerror", pages[student])
        assert "grade_cell" not in pages[student] and "HIDDEN" not in pages[student]
    manual = manual_points(nbformat.read(release, as_version=4))
    assert manual > 0
    assert (
        f"<strong>Autograded: {suite.max_score:g} / {suite.max_score:g}.</strong> "
        f"Pending manual grading: {manual:g} points"
    ) in pages["ann"]
    assert pages["ann"].count("<img") >= 5  # the notebook's figures, from the sandbox
    assert f"<strong>Autograded: 0 / {suite.max_score:g}.</strong>" in pages["ben"]
    # No output shows a bare score: each verdict's result renders as its HTML message.
    assert not re.search(r"output_execute_result\">\s*<pre>\s*-?[0-9.]+\s*</pre>", pages["ben"])
    assert pages["ben"].count('class="layerlab-verdict') == len(suite.tests)
    assert "not implemented yet" in pages["ben"]
    # Later runs find everything done: no judging, no execution, executed outputs kept.
    autograded = course.root / "autograded" / "ann" / DEMO_ASSIGNMENT / f"{suite.notebook}.ipynb"
    reports = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT / "ann.json"
    before = (reports.read_text(), autograded.read_text())
    assert '"image/png"' in before[1]
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False, feedback=True)
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False)
    assert (reports.read_text(), autograded.read_text()) == before


@pytest.mark.slow
def test_nbgrader_autograde_records_the_judges_score_from_the_verdict_outputs(tmp_path):
    """The verdict outputs (HTML for the page, the score as plain text) make the real
    `nbgrader autograde` record exactly the judge's score in every test cell, partial credit
    included. The gradebook's scores are overwritten with -1 first, so each value read back
    was written by nbgrader from the outputs."""
    import json

    from autograder.gradebook import open_gradebook, run_nbgrader
    from autograder.mutation import apply_entry, load_catalog

    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path / "course")
    good = solution_cells(suite)
    students = {"ann": good}
    for i, entry in enumerate(load_catalog(DEMO_ASSIGNMENT)[0][:3]):
        students[f"mut{i}"] = apply_entry(good, entry.replace)
    for student, cells in students.items():
        folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(student_notebook(course, DEMO_ASSIGNMENT, cells),
                       folder / f"{suite.notebook}.ipynb")  # fmt: skip
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False)
    reports = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT
    judged = {
        s: {t["id"]: t["score"] for t in json.loads((reports / f"{s}.json").read_text())["tests"]}
        for s in students
    }
    partial = [v for scores in judged.values() for v in scores.values() if 0 < v % 1 < 1]
    assert partial, "no fractional score to prove partial credit with"

    def gradebook_scores() -> dict:
        with open_gradebook(course) as gb:
            return {
                s: {
                    g.name: g.auto_score
                    for g in gb.find_submission_notebook(suite.notebook, DEMO_ASSIGNMENT, s).grades
                    if g.name in judged[s]
                }
                for s in students
            }

    with open_gradebook(course) as gb:
        for s in students:
            for g in gb.find_submission_notebook(suite.notebook, DEMO_ASSIGNMENT, s).grades:
                g.auto_score = -1.0
        gb.db.commit()
    assert all(v == -1.0 for scores in gradebook_scores().values() for v in scores.values())
    run_nbgrader(course, ["autograde", DEMO_ASSIGNMENT, "--force"])
    after = gradebook_scores()
    for s in students:
        assert after[s] == pytest.approx(judged[s], abs=1e-9), s
