"""``autograded/STUDENT/NAME/NOTEBOOK.ipynb``: the notebook nbgrader's feedback is made from.

The student's notebook (executed in the sandbox with ``--feedback``, else without outputs)
with the release's trusted cells, the judge's verdict in each graded cell and the judge's
report on top. Every piece of text that the student's code or notebook can influence is
escaped before it reaches Markdown: staff open these pages on their Jupyter origin.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.course import Assignment, atomic_write
from autograder.submission import MAX_BYTES, MAX_CELLS

MAX_NOTE_CHARS = 500

# Characters with a meaning in Markdown or HTML, written as character references: the text
# then shows literally (no tag, link, emphasis, table cell or code span can be opened).
_MARKDOWN_ACTIVE = {c: f"&#{ord(c)};" for c in "&<>\"'`*_[]()!|\\#~$={}:"}


def markdown_text(text, limit: int = MAX_NOTE_CHARS) -> str:
    """``text`` on one line, shortened to ``limit`` characters, safe inside Markdown."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rsplit(" ", 1)[0] + " …"
    return "".join(_MARKDOWN_ACTIVE.get(c, c) for c in flat)


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
        functions = ", ".join(markdown_text(f, 80) for f in t["functions"])
        points = f"{t['score']:g} / {t['max_score']:g}"
        status = markdown_text(t["status"], 20)
        lines.append(f"| {markdown_text(t['id'], 80)} | {functions} | {points} | {status} |")
    notes = list(data.get("notes", []))
    problem = (data.get("feedback_execution") or {}).get("problem")
    if problem:
        notes.append(f"Executing your notebook for this feedback: {problem}")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {markdown_text(n)}" for n in notes]
    lines += ["", "---", "", "*Below: your notebook.*"]
    return "\n".join(lines)


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


def write_autograded(assignment: Assignment, data: dict, executed=None) -> Path:
    """Write the autograded notebook of ``data["student"]``: ``executed`` (a notebook run in
    the sandbox) when given, else the submission without outputs."""
    from autograder.feedback import autograded_notebook, new_markdown_cell

    release = _release_notebook(assignment.release_notebook)
    root = assignment.course.root
    student = executed if executed is not None else read_cleared(root / data["submission"])
    by_test = {t["id"]: t for t in data["tests"]}
    nb = autograded_notebook(release, student, by_test, verdict_outputs)
    header = new_markdown_cell(report_summary(data))
    header["id"] = "layerlab-report"
    nb.cells.insert(0, header)
    nb.metadata["layerlab"] = {"sha256": data["sha256"], "executed": executed is not None}
    out = assignment.autograded_path(data["student"])
    atomic_write(out, nbformat.writes(nb))
    return out


def is_current(assignment: Assignment, data: dict, executed: bool) -> bool:
    """Whether the autograded notebook of this exact submission exists (and was executed in
    the sandbox, when ``executed``), so it need not be written again."""
    path = assignment.autograded_path(data["student"])
    try:
        if path.stat().st_size > 4 * MAX_BYTES:
            return False
        meta = json.loads(path.read_text())["metadata"]["layerlab"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return False
    return meta.get("sha256") == data["sha256"] and (meta.get("executed") is True or not executed)


def read_cleared(path: Path):
    """The submitted notebook without outputs, or None when it is not a readable notebook of
    sensible size (the feedback then shows the release)."""
    try:
        if path.suffix != ".ipynb" or path.stat().st_size > MAX_BYTES:
            return None
        nb = nbformat.reads(path.read_text(errors="replace"), as_version=4)
    except Exception:  # noqa: BLE001  (damaged, hostile or not a notebook)
        return None
    cells = nb.get("cells")
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:
        return None
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"] = []
    return nb


@functools.lru_cache(maxsize=8)
def _cached_release(path: Path, mtime_ns: int):
    return nbformat.read(path, as_version=4)


def _release_notebook(path: Path):
    return _cached_release(path, path.stat().st_mtime_ns)
