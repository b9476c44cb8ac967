"""``autograded/STUDENT/NAME/NOTEBOOK.ipynb``: the notebook nbgrader's feedback is made from.

The student's notebook (executed in the sandbox with ``--feedback``, else without outputs)
with the release's trusted cells, the judge's verdict in each graded cell and the judge's
report on top. Every piece of text that the student's code or notebook can influence is
escaped before it reaches Markdown: staff open these pages on their Jupyter origin.
"""

from __future__ import annotations

import functools
import html
import json
import re
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


# The page's own style, in the report header (the kit's fixed text, never a student's): report
# table cells apart and wrapped, verdicts without an "Out[ ]:" prompt beside them, figures no
# wider than the page (so nothing scrolls sideways on a laptop screen).
FEEDBACK_STYLE = """<style>
.layerlab-report td, .layerlab-report th { padding: 0.2em 0.8em; vertical-align: top; }
.layerlab-report td { white-space: normal; overflow-wrap: anywhere; }
.output_area:has(.layerlab-verdict) .output_prompt { visibility: hidden; }
.jp-OutputArea-child:has(.layerlab-verdict) .jp-OutputPrompt { visibility: hidden; }
.output_subarea img { max-width: 100%; height: auto; }
</style>"""


def manual_points(release) -> float:
    """Points of the release's manually graded cells (nbgrader ``grade`` and ``solution``:
    written answers and free-response code), which the judge does not score."""
    total = 0.0
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            total += float(meta.get("points") or 0)
    return total


def report_summary(data: dict, pending_manual: float = 0.0) -> str:
    """A Markdown header for the feedback: the autograded score apart from the points still to
    be graded by hand, each test's status and message, the judge's notes."""
    pending = (
        f" Pending manual grading: {pending_manual:g} points (written answers, graded by staff)."
        if pending_manual
        else ""
    )
    lines = [
        "## Autograder report",
        "",
        f"**Autograded: {data['score']:g} / {data['max_score']:g}.**{pending}",
        "",
        f"Inputs were drawn with seed {data['seed']}; hidden tests decide the points, and each "
        "graded cell below says what its tests found.",
        "",
        FEEDBACK_STYLE,
        "",
        '<div class="layerlab-report">',
        "",
        "| test | functions | points | result | message |",
        "|---|---|---|---|---|",
    ]
    for t in data["tests"]:
        functions = ", ".join(markdown_text(f, 80) for f in t["functions"])
        points = f"{t['score']:.4g} / {t['max_score']:g}"
        status = markdown_text(t["status"], 20)
        message = markdown_text(t.get("message") or "", 300) if t["status"] != "passed" else ""
        lines.append(
            f"| {markdown_text(t['id'], 80)} | {functions} | {points} | {status} | {message} |"
        )
    lines += ["", "</div>"]
    notes = list(data.get("notes", []))
    problem = (data.get("feedback_execution") or {}).get("problem")
    if problem:
        notes.append(f"Executing your notebook for this feedback: {problem}")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {markdown_text(n)}" for n in notes]
    lines += ["", "---", "", "*Below: your notebook.*"]
    return "\n".join(lines)


MAX_VERDICT_CHARS = 4000


def verdict_html(test: dict) -> str:
    """The verdict as escaped HTML that wraps: status and points, then the message with each
    sub-check (`` | `` in the judge's message) and each hint on a line of its own."""
    head = f"[{test['status']}] {test['score']:.4g} / {test['max_score']:g} points"
    body = ""
    if test["status"] != "passed" and test.get("message"):
        message = str(test["message"])
        if len(message) > MAX_VERDICT_CHARS:
            message = message[:MAX_VERDICT_CHARS] + " …"
        hint = '<br><strong class="layerlab-hint">Hint:</strong>'
        body = (
            '<div style="white-space: pre-wrap; overflow-wrap: anywhere">'
            + re.sub(r"(^|\s+)Hint:", hint, html.escape(message.replace(" | ", "\n")))
            + "</div>"
        )
    return (
        f'<div class="layerlab-verdict layerlab-{html.escape(str(test["status"]))}">'
        f"<strong>{html.escape(head)}</strong>{body}</div>"
    )


def verdict_outputs(test: dict) -> list:
    """A graded cell's outputs: one result whose HTML is the verdict and whose plain text is
    the score, so nbgrader records exactly the judge's score (a numeric ``text/plain`` is
    partial credit) and the page shows the verdict, not a bare number."""
    return [
        NotebookNode(
            output_type="execute_result",
            execution_count=None,
            metadata={},
            data={"text/plain": repr(float(test["score"])), "text/html": verdict_html(test)},
        )
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
    header = new_markdown_cell(report_summary(data, manual_points(release)))
    header["id"] = "layerlab-report"
    nb.cells.insert(0, header)
    nb.metadata["layerlab"] = {"sha256": data["sha256"], "executed": executed is not None}
    out = assignment.autograded_path(data["student"])
    atomic_write(out, nbformat.v4.writes(nb))  # built from checked parts: no validation
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
