"""Grading a class: every submission under ``submitted/*/NAME/``, in parallel, into nbgrader.

Each submission is judged once per content: its report is kept in
``.layerlab/reports/NAME/STUDENT.json`` with the submission's SHA-256, so an interrupted run
resumes where it stopped and ``nbgrader autograde`` (through ``nbgrader_hooks``) reuses the
same verdicts. Only this process writes the gradebook, one student per transaction, and a
score is always set (never added), so a killed run never loses or double-counts a grade.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.judge import UsageError, judge
from autograder.suites import load_suite

STATE_DIR = ".layerlab"


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        root = Path(start or Path.cwd()).resolve()
        if not (root / "nbgrader_config.py").exists():
            raise UsageError(
                f"{root} is not a course directory (no nbgrader_config.py); run the command "
                "from the repository root or pass --root."
            )
        return cls(root)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def release_notebook(self, assignment: str) -> Path:
        suite = load_suite(assignment)
        return self.root / "assignments" / assignment / f"{suite.notebook}.ipynb"

    def submissions(self, assignment: str, students: list[str] | None = None) -> dict[str, Path]:
        """``{student: path}`` of every submitted notebook (or .py) for ``assignment``."""
        found = {}
        notebook = load_suite(assignment).notebook
        for folder in sorted((self.root / "submitted").glob(f"*/{assignment}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            candidates = [folder / f"{notebook}.ipynb", *sorted(folder.glob("*.ipynb"))]
            candidates += sorted(folder.glob("*.py"))
            path = next((p for p in candidates if p.is_file()), None)
            if path is not None:
                found[student] = path
        return found

    def report_path(self, assignment: str, student: str) -> Path:
        return self.root / STATE_DIR / "reports" / assignment / f"{student}.json"

    def salt(self) -> str:
        path = self.root / STATE_DIR / "salt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, secrets.token_hex(16))
        return path.read_text().strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def submission_seed(course: Course, assignment: str, student: str, digest: str) -> int:
    """Inputs differ per submission and per course (secret salt), and stay the same when the
    same file is graded again, so ``grade`` and ``nbgrader autograde`` agree."""
    text = f"{course.salt()}:{assignment}:{student}:{digest}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") >> 1


def cached_report(course: Course, assignment: str, student: str, digest: str) -> dict | None:
    path = course.report_path(assignment, student)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("sha256") == digest else None


def judge_student(
    course: Course, assignment: str, student: str, path: Path, mode: str, digest: str
) -> dict:
    """Judge one submission (in a worker process of the pool) and return the report dict;
    ``digest`` is the file's SHA-256."""
    seed = submission_seed(course, assignment, student, digest)
    shown = str(path.relative_to(course.root))
    report = judge(path, assignment=assignment, seed=seed, mode=mode, shown_path=shown)
    data = report.as_dict()
    data.update(student=student, sha256=digest, mode=mode, seconds=round(report.seconds, 3))
    return data


def report_for(course: Course, assignment: str, student: str, path: Path, mode: str) -> dict:
    """The cached report of this exact file, or a fresh one (then cached)."""
    digest = sha256(path)
    data = cached_report(course, assignment, student, digest)
    if data is None:
        data = judge_student(course, assignment, student, path, mode, digest)
        store_report(course, assignment, student, data)
    return data


def store_report(course: Course, assignment: str, student: str, data: dict) -> None:
    path = course.report_path(assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(data, indent=1))


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- gradebook


def open_gradebook(course: Course):
    """nbgrader's Gradebook for the course (nbgrader runs ``alembic`` from PATH: put this
    environment's ``bin/`` there first)."""
    from nbgrader.api import Gradebook

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(course.db_url)


def ensure_assignment_in_gradebook(course: Course, assignment: str) -> None:
    """Register the assignment and its graded cells (nbgrader generate_assignment into a
    scratch release directory, so the committed ``assignments/`` is left alone)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course) as gb:
        try:
            if gb.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as scratch:
        run_nbgrader(
            course,
            ["generate_assignment", assignment, "--force",
             f"--CourseDirectory.release_directory={scratch}"],
        )  # fmt: skip


def run_nbgrader(course: Course, args: list[str]) -> str:
    """Run an nbgrader command in the course; return its log (raises if it failed)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
        cwd=course.root,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def record_in_gradebook(gb, assignment: str, notebook: str, data: dict) -> None:
    """Set the auto score of every graded test cell from the report (idempotent)."""
    student = data["student"]
    gb.update_or_create_student(student)
    try:
        gb.find_submission(assignment, student)
    except Exception:  # noqa: BLE001  (MissingEntry)
        with warnings.catch_warnings():  # SQLAlchemy autoflush chatter inside nbgrader
            warnings.simplefilter("ignore")
            gb.add_submission(assignment, student)
    grades = {g.name: g for g in gb.find_submission_notebook(notebook, assignment, student).grades}
    for test in data["tests"]:
        grade = grades.get(test["id"])
        if grade is not None:  # a test without a cell has nothing to record
            grade.auto_score = min(float(test["score"]), float(grade.max_score))
    gb.db.commit()


def autograded_path(course: Course, assignment: str, notebook: str, student: str) -> Path:
    return course.root / "autograded" / student / assignment / f"{notebook}.ipynb"


def write_autograded_notebook(
    course: Course, assignment: str, notebook: str, data: dict, executed=None
) -> Path:
    """``autograded/STUDENT/NAME/NOTEBOOK.ipynb`` for nbgrader's feedback (see
    ``autograder.feedback``): the student's notebook, executed in the sandbox when
    ``executed`` is given (else without outputs), with the release's trusted cells and the
    judge's verdicts."""
    from autograder.feedback import autograded_notebook, new_markdown_cell

    release = _release_notebook(course.release_notebook(assignment))
    student = executed if executed is not None else _read_cleared(course.root / data["submission"])
    by_test = {t["id"]: t for t in data["tests"]}
    nb = autograded_notebook(release, student, by_test, verdict_outputs)
    header = new_markdown_cell(report_summary(data))
    header["id"] = "layerlab-report"
    nb.cells.insert(0, header)
    nb.metadata["layerlab"] = {"sha256": data["sha256"], "executed": executed is not None}
    out = autograded_path(course, assignment, notebook, data["student"])
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(out, nbformat.writes(nb))
    return out


@functools.lru_cache(maxsize=8)
def _cached_release(path: Path, mtime_ns: int):
    return nbformat.read(path, as_version=4)


def _release_notebook(path: Path):
    return _cached_release(path, path.stat().st_mtime_ns)


def autograded_is_current(
    course: Course, assignment: str, notebook: str, data: dict, executed: bool
) -> bool:
    """Whether the autograded notebook of this exact submission exists (and was executed in
    the sandbox, when ``executed``), so it need not be written again."""
    try:
        nb = json.loads(autograded_path(course, assignment, notebook, data["student"]).read_text())
        meta = nb["metadata"]["layerlab"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return meta.get("sha256") == data["sha256"] and (meta.get("executed") is True or not executed)


def report_summary(data: dict) -> str:
    """A Markdown header for the feedback: the score, each test's status, the judge's notes."""
    lines = [
        f"## Autograder report: {data['score']:g} / {data['max_score']:g} points",
        "",
        f"Inputs were drawn with seed {data['seed']}; hidden tests decide the points, and each "
        "graded cell below says what its tests found.",
        "",
        "| test | functions | points | result |",
        "|---|---|---|---|",
    ]
    for t in data["tests"]:
        functions = ", ".join(f"`{f}`" for f in t["functions"])
        lines.append(f"| {t['id']} | {functions} | {t['score']:g} / {t['max_score']:g} "
                     f"| {t['status']} |")  # fmt: skip
    notes = list(data.get("notes", []))
    problem = data.get("feedback_execution", {}).get("problem")
    if problem:
        notes.append(f"Executing your notebook for this feedback: {problem}")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {_one_line(n)}" for n in notes]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:500]


def _read_cleared(path: Path):
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001  (damaged or not a notebook: feedback shows the release)
        return None
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
    return nb


def verdict_outputs(test: dict) -> list:
    """A graded cell's outputs that make nbgrader record exactly the judge's score."""
    text = f"[{test['status']}] {test['score']:g}/{test['max_score']:g}"
    if test["status"] != "passed":
        text += f": {test['message']}"
    return [
        NotebookNode(output_type="stream", name="stdout", text=text + "\n"),
        NotebookNode(
            output_type="execute_result",
            execution_count=1,
            metadata={},
            data={"text/plain": repr(float(test["score"]))},
        ),  # fmt: skip
    ]


# ----------------------------------------------------------------------------- the command


def grade_class(
    course: Course,
    assignment: str,
    jobs: int,
    students: list[str] | None = None,
    mode: str = "all",
    progress: bool = True,
    feedback: bool = False,
) -> Path:
    """Grade every submission (or only ``students``), record the gradebook, write the CSV and
    the class summary (``summary/NAME/``) of every graded submission; return the CSV path.
    With ``feedback``, also execute each notebook in the sandbox for its feedback page and
    run ``nbgrader generate_feedback`` (HTML under ``feedback/``)."""
    from tqdm import tqdm

    suite = load_suite(assignment)
    subs = course.submissions(assignment, students)
    if not subs:
        raise UsageError(
            f"no submissions found under {course.root / 'submitted'}/*/{assignment}/; "
            "collect them first (nbgrader zip_collect or copy them there)."
        )
    ensure_assignment_in_gradebook(course, assignment)
    reports: dict[str, dict] = {}
    todo = {}
    for student, path in subs.items():
        digest = sha256(path)
        cached = cached_report(course, assignment, student, digest)
        if cached is not None:
            reports[student] = cached
        if cached is None or (
            feedback and not autograded_is_current(course, assignment, suite.notebook, cached, True)
        ):
            todo[student] = (path, digest, cached)
    bar = tqdm(total=len(subs), initial=len(subs) - len(todo), disable=not progress,
               unit="sub", desc=f"grading {assignment}")  # fmt: skip
    with open_gradebook(course) as gb:
        for student, data in reports.items():
            record_in_gradebook(gb, assignment, suite.notebook, data)
            if student not in todo and not autograded_is_current(
                course, assignment, suite.notebook, data, False
            ):
                write_autograded_notebook(course, assignment, suite.notebook, data)
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(grade_student, course, assignment, s, p, mode, d, cached, feedback)
                for s, (p, d, cached) in todo.items()
            ]
            for future in as_completed(futures):
                data = future.result()
                store_report(course, assignment, data["student"], data)
                record_in_gradebook(gb, assignment, suite.notebook, data)
                reports[data["student"]] = data
                bar.update(1)
    bar.close()
    if feedback:
        run_nbgrader(course, ["generate_feedback", assignment, "--force"])
    from autograder.summary import write_summary

    if students:  # the summary and the CSV cover the whole class, not just this run
        reports = {**current_reports(course, assignment), **reports}
    write_summary(course.root, assignment, [reports[s] for s in sorted(reports)])
    return write_csv(course, assignment, suite, reports)


def current_reports(course: Course, assignment: str) -> dict[str, dict]:
    """The stored report of every submission graded in its present form."""
    found = {}
    for student, path in course.submissions(assignment).items():
        data = cached_report(course, assignment, student, sha256(path))
        if data is not None:
            found[student] = data
    return found


def grade_student(course, assignment, student, path, mode, digest, cached, execute) -> dict:
    """In a pool process: the report (the cached one, or judged now) and the autograded
    notebook, with the notebook executed in the sandbox first when ``execute``."""
    data = cached or judge_student(course, assignment, student, path, mode, digest)
    executed = None
    if execute:
        from autograder.feedback import execute_for_feedback

        run = execute_for_feedback(path)
        executed = run.notebook
        data["feedback_execution"] = {"seconds": round(run.seconds, 3), "problem": run.problem}
    write_autograded_notebook(course, assignment, load_suite(assignment).notebook, data, executed)
    return data


def write_csv(course: Course, assignment: str, suite, reports: dict[str, dict]) -> Path:
    path = course.root / f"grades-{assignment}.csv"
    test_ids = [t.id for t in suite.tests]
    rows = []
    for student in sorted(reports):
        data = reports[student]
        scores = {t["id"]: t["score"] for t in data["tests"]}
        rows.append([student, data["score"], data["max_score"], data["seed"]]
                    + [scores.get(t, 0.0) for t in test_ids])  # fmt: skip
    fd, tmp = tempfile.mkstemp(dir=course.root, prefix=".grades-")
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", "seed", *test_ids])
        writer.writerows(rows)
    os.replace(tmp, path)
    return path
