"""Feedback notebooks: the student's notebook (executed in the sandbox when asked), the
release's trusted cells, and the judge's verdict in every graded test cell.

The result goes to ``autograded/STUDENT/NAME/NOTEBOOK.ipynb``, where ``nbgrader
generate_feedback`` turns it into HTML. Everything that comes from the student (cells, the
outputs of executing them) is untrusted: nbgrader metadata is taken from the release only,
outputs are cut down to text and PNG/JPEG images of bounded size, and HTML in the student's
Markdown is escaped.
"""

from __future__ import annotations

import base64
import copy
import functools
import os
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import from_dict

from autograder.sandbox import Limits, start_sandboxed

SAFE_MIMETYPES = ("image/png", "image/jpeg", "text/plain")
MAX_OUTPUTS_PER_CELL = 30
MAX_TEXT_CHARS = 20_000
MAX_IMAGE_CHARS = 4_000_000
MAX_EXECUTED_BYTES = 64 * 1024**2


@dataclass
class Execution:
    """A notebook executed for feedback (``notebook`` None when that failed: ``problem``)."""

    notebook: nbformat.NotebookNode | None
    problem: str | None
    seconds: float


def execute_for_feedback(
    path: Path,
    limits: Limits | None = None,
    cell_seconds: int = 120,
    total_seconds: float = 900.0,
) -> Execution:
    """Run the notebook at ``path`` top to bottom in a Jupyter kernel inside the sandbox and
    return it with sanitized outputs. Never raises for a bad or hostile notebook (raises
    ``SandboxUnavailable`` when bubblewrap is unusable and ``limits`` do not allow that).

    The executed notebook comes back through a pipe, at most ``MAX_EXECUTED_BYTES``; the
    sandbox's home, a tmpfs, vanishes with it."""
    started = time.monotonic()
    if path.suffix != ".ipynb":
        return Execution(None, "only notebooks are executed for feedback", 0.0)
    limits = limits or Limits(processes=256)
    out_r, out_w = os.pipe()
    try:
        sandbox = start_sandboxed(
            ["judge_worker.execute", "submission.ipynb", str(out_w), str(cell_seconds)],
            limits,
            files={"submission.ipynb": path},
            pass_fds=(out_w,),
            cpu_seconds=total_seconds,
            extra_env={
                "JUPYTER_PLATFORM_DIRS": "1",
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            },
        )
    except BaseException:
        os.close(out_r)
        raise
    finally:
        os.close(out_w)
    received = bytearray()
    too_big = threading.Event()

    def receive():
        with os.fdopen(out_r, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 20):
                if len(received) + len(chunk) > MAX_EXECUTED_BYTES:
                    too_big.set()  # keep reading (and dropping) so the writer is not stuck
                else:
                    received.extend(chunk)

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    try:
        tail = _drain(sandbox.proc, 8192)
        try:
            sandbox.proc.wait(timeout=total_seconds)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        sandbox.kill()
        reader.join(timeout=10)
    finally:
        sandbox.close()
    elapsed = time.monotonic() - started
    if too_big.is_set():
        mib = MAX_EXECUTED_BYTES // 1024**2
        return Execution(None, f"the executed notebook is larger than {mib} MiB", elapsed)
    if not received or reader.is_alive():
        why = "it ran out of time" if timed_out else "the kernel could not run it"
        detail = bytes(tail).decode(errors="replace").strip().splitlines()[-3:]
        return Execution(None, f"{why} ({' / '.join(detail)[:300]})", elapsed)
    try:
        nb = nbformat.reads(received.decode("utf-8", errors="replace"), as_version=4)
    except Exception as exc:  # noqa: BLE001
        return Execution(None, f"the executed notebook could not be read ({exc})"[:500], elapsed)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = sanitize_outputs(cell.get("outputs", []))
    problem = nb.metadata.pop("layerlab_execution_error", None)
    return Execution(nb, str(problem)[:500] if problem else None, elapsed)


def _drain(proc, keep: int) -> bytearray:
    """Read the process's output in the background, keeping only its last ``keep`` bytes."""
    tail = bytearray()

    def pump():
        try:
            while chunk := proc.stdout.read1(65536):
                tail.extend(chunk)
                del tail[:-keep]
        except (OSError, ValueError):  # the pipe was closed under us: the sandbox is gone
            return

    threading.Thread(target=pump, daemon=True).start()
    return tail


def _read_regular_file(path: Path, max_bytes: int) -> str | None:
    """The file's text if it is a regular file (never a link) of at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return f.read(max_bytes).decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------- outputs


# Nodes are built without nbformat's per-node schema validation (it dominated the cost of
# writing a class's feedback); the whole notebook is validated when it is written.


def new_output(output_type: str, **fields):
    if output_type == "display_data":
        fields.setdefault("metadata", {})
    return from_dict({"output_type": output_type, **fields})


def new_markdown_cell(source: str):
    return from_dict({"cell_type": "markdown", "metadata": {}, "source": source})


def new_code_cell(source: str):
    return from_dict({"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                      "execution_count": None})  # fmt: skip


def sanitize_outputs(outputs) -> list:
    """Untrusted outputs reduced to streams, errors, text and PNG/JPEG images, each bounded."""
    clean = []
    if not isinstance(outputs, list):
        return clean
    for out in outputs[:MAX_OUTPUTS_PER_CELL]:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream":
            name = "stderr" if out.get("name") == "stderr" else "stdout"
            clean.append(new_output("stream", name=name, text=_text(out.get("text"))))
        elif kind == "error":
            traceback = out.get("traceback")
            lines = [_text(line, 2000) for line in traceback[-40:]] if _is_list(traceback) else []
            clean.append(
                new_output(
                    "error",
                    ename=_text(out.get("ename"), 200),
                    evalue=_text(out.get("evalue"), 2000),
                    traceback=lines,
                )
            )
        elif kind in ("display_data", "execute_result"):
            data = _safe_data(out.get("data"))
            if data:
                clean.append(new_output("display_data", data=data))
    if len(outputs) > MAX_OUTPUTS_PER_CELL:
        more = len(outputs) - MAX_OUTPUTS_PER_CELL
        clean.append(new_output("stream", name="stdout", text=f"[{more} more outputs hidden]\n"))
    return clean


def _is_list(value) -> bool:
    return isinstance(value, list)


def _text(value, limit: int = MAX_TEXT_CHARS) -> str:
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        return value[:limit] + f"\n[... {len(value) - limit} more characters hidden]\n"
    return value


def _safe_data(data) -> dict:
    if not isinstance(data, dict):
        return {}
    safe = {}
    for mime in SAFE_MIMETYPES:
        value = data.get(mime)
        if mime == "text/plain":
            if isinstance(value, str | list):
                safe[mime] = _text(value)
        elif _is_image(value, mime):
            safe[mime] = value
    return safe


_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _is_image(value, mime: str) -> bool:
    if not isinstance(value, str) or len(value) > MAX_IMAGE_CHARS:
        return False
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except ValueError:
        return False
    return raw.startswith(_MAGIC[mime])


# ----------------------------------------------------------------------------- the notebook


def autograded_notebook(release, student, tests: dict[str, dict], verdict_outputs):
    """The notebook nbgrader's feedback shows: ``student`` (a notebook, or None when it could
    not be read) with every cell the release knows restored from the release (its metadata
    always; its source too unless it is an answer cell), release cells the student deleted put
    back, and each graded test cell's outputs replaced by ``verdict_outputs(test)``."""
    trusted = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in release.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id")
    }
    if student is None:
        cells = [copy.deepcopy(cell) for cell in release.cells]
    else:
        cells = _reconcile(student.cells, trusted, release.cells)
    seen_ids = set()
    for index, cell in enumerate(cells):
        if cell.get("id") in seen_ids or not isinstance(cell.get("id"), str):
            cell["id"] = f"cell-{index}"
        seen_ids.add(cell["id"])
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and meta.get("grade_id") in tests:
            cell.outputs = verdict_outputs(tests[meta["grade_id"]])
    return from_dict({"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                      "metadata": copy.deepcopy(release.metadata)})  # fmt: skip


def _reconcile(student_cells, trusted: dict, release_cells) -> list:
    cells, placed = [], {}
    for raw in student_cells:
        cell = _plain_cell(raw)
        if cell is None:
            continue
        meta = raw.get("metadata", {}).get("nbgrader") if isinstance(raw, dict) else None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        release_cell = trusted.get(grade_id) if grade_id not in placed else None
        if release_cell is not None:
            if not release_cell.metadata["nbgrader"].get("solution"):
                outputs = cell.get("outputs", [])
                cell = copy.deepcopy(release_cell)
                if cell.cell_type == "code":
                    cell.outputs = outputs
            elif release_cell.cell_type != cell.cell_type:
                cell = copy.deepcopy(release_cell)
            cell.metadata["nbgrader"] = copy.deepcopy(release_cell.metadata["nbgrader"])
            placed[grade_id] = len(cells)
        cells.append(cell)
    previous = -1
    for release_cell in release_cells:
        grade_id = release_cell.metadata.get("nbgrader", {}).get("grade_id")
        if not grade_id:
            continue
        if grade_id in placed:
            previous = placed[grade_id]
            continue
        previous += 1
        cells.insert(previous, copy.deepcopy(release_cell))
        placed = {g: i + (i >= previous) for g, i in placed.items()}
        placed[grade_id] = previous
    return cells


SAFE_TAGS = {"b", "i", "em", "strong", "code", "pre", "br", "p", "sub", "sup", "ul", "ol", "li",
             "table", "thead", "tbody", "tr", "th", "td", "hr", "blockquote"}  # fmt: skip


SAFE_URL_SCHEMES = ("http", "https", "mailto")


@functools.lru_cache(maxsize=4096)  # a class's notebooks share most Markdown cells
def escape_html(markdown: str) -> str:
    """Student Markdown made safe to render on staff's pages: every HTML tag outside a small
    attribute-free set escaped (nbgrader's template renders Markdown's HTML as is), and, when
    any link or image points anywhere but http, https, mailto or within the page, the whole
    cell shown as plain text instead."""
    import bleach

    cleaned = bleach.clean(markdown, tags=SAFE_TAGS, attributes={}, strip=False)
    if all(_safe_url(url) for url in _markdown_urls(cleaned)):
        return cleaned
    fence = "~~~~"
    return (
        "*(this cell had a link the feedback does not allow; shown as text)*\n\n"
        f"{fence}\n{markdown.replace('~', '-')}\n{fence}"
    )


def _markdown_urls(markdown: str) -> list[str]:
    """Every link and image destination in ``markdown``, entities decoded, as Markdown
    renderers read them."""
    urls, stack = [], list(_markdown_parser()(markdown))
    while stack:
        token = stack.pop()
        if not isinstance(token, dict):
            continue
        url = (token.get("attrs") or {}).get("url")
        if url is not None:
            urls.append(str(url))
        stack.extend(token.get("children") or [])
    return urls


@functools.cache
def _markdown_parser():
    import mistune

    return mistune.create_markdown(renderer=None)


def _safe_url(url: str) -> bool:
    """Whether a browser would open ``url`` as an http(s)/mailto link or a relative one."""
    compact = "".join(c for c in url if c.isprintable() and not c.isspace()).lower()
    scheme, colon, _ = compact.partition(":")
    if not colon or any(c in scheme for c in "/?#"):
        return True  # relative: no scheme before the first path, query or fragment
    return scheme in SAFE_URL_SCHEMES


def _plain_cell(raw):
    """A student's cell as a fresh node with no metadata, or None if it is not a cell."""
    if not isinstance(raw, dict):
        return None
    source = _text(raw.get("source"), 200_000)
    kind = raw.get("cell_type")
    if kind == "code":
        cell = new_code_cell(source)
        cell.outputs = sanitize_outputs(raw.get("outputs", []))
    elif kind == "markdown":
        cell = new_markdown_cell(escape_html(source))
    elif kind == "raw":
        cell = new_markdown_cell("```\n" + source.replace("```", "'''") + "\n```")
    else:
        return None
    if isinstance(raw.get("id"), str):
        cell["id"] = raw["id"][:64]
    return cell
