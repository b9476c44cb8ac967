"""Reading a submission: a notebook or a Python file, however damaged.

Only the code is used: the source of every code cell, in order. Metadata, outputs, cell ids
and cell types other than code are ignored, so cells moved, split, merged or re-tagged do not
matter. Anything unreadable becomes a ``SubmissionError`` with a sentence for the student.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 50 * 1024**2
MAX_CELLS = 2000  # a notebook of this course has under 150 cells


class SubmissionError(Exception):
    """The file cannot be read as a submission; the message says why and what to do."""


@dataclass
class Submission:
    """The code cells of a submission; ``numbers[i]`` is the number JupyterLab shows for
    ``cells[i]`` (1-based over all cells, Markdown included; for a ``.py`` file, 1, 2, ...)."""

    path: Path
    cells: list[str]
    metadata: dict = field(default_factory=dict)
    numbers: list[int] = field(default_factory=list)

    def __post_init__(self):
        if len(self.numbers) != len(self.cells):
            self.numbers = list(range(1, len(self.cells) + 1))

    def defined_in(self, number: int) -> str | None:
        """The first function or class defined in the cell numbered ``number``."""
        for source, n in zip(self.cells, self.numbers, strict=True):
            if n == number:
                found = re.search(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.MULTILINE)
                return found.group(1) if found else None
        return None

    def defined_names(self) -> set[str]:
        """Names of the top-level functions and classes defined anywhere in the code."""
        names: set[str] = set()
        for source in self.cells:
            names.update(re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.MULTILINE))
        return names


def read_submission(path: Path) -> Submission:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SubmissionError(
            f"the file is {size / 1024**2:.0f} MiB, over the {MAX_BYTES // 1024**2} MiB limit: "
            "clear the notebook's outputs (Edit > Clear All Outputs) and submit again."
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError(
            "the file is not UTF-8 text: submit the .ipynb (or .py) file itself, not an "
            "archive or an export."
        ) from None
    if path.suffix == ".py":
        return Submission(path, split_python_cells(text))
    return parse_notebook(path, text)


def split_python_cells(text: str) -> list[str]:
    """A .py file as cells: split at ``# %%`` markers when present, else one cell."""
    parts = re.split(r"^# ?%%.*$", text, flags=re.MULTILINE)
    return [p for p in parts if p.strip()] or [""]


def parse_notebook(path: Path, text: str) -> Submission:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise SubmissionError(
            "the notebook's JSON is nested far deeper than any notebook; re-download it from "
            "Jupyter (File > Download) and submit again."
        ) from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it was probably edited outside Jupyter or truncated. Re-download it from Jupyter "
            "(File > Download) and submit again."
        ) from None
    if not isinstance(doc, dict):
        raise SubmissionError("the file is JSON but not a notebook (no cells found).")
    cells = doc.get("cells")
    if cells is None and isinstance(doc.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in doc["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
    if not isinstance(cells, list):
        raise SubmissionError("the file is JSON but not a notebook (no cells found).")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(
            f"the notebook has {len(cells)} cells, over the limit of {MAX_CELLS}: submit the "
            "assignment's notebook, with your answers in its cells."
        )
    sources, numbers = [], []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            sources.append(source)
            numbers.append(number)
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    return Submission(path, sources, metadata, numbers)


def infer_assignment(sub: Submission, assignments: dict[str, list[str]]) -> str | None:
    """Which assignment ``sub`` answers: notebook metadata, then file name, then the graded
    function names it defines (``assignments`` maps names to their graded functions)."""
    meta = sub.metadata.get("layerlab")
    if isinstance(meta, dict) and meta.get("assignment") in assignments:
        return meta["assignment"]
    stem = sub.path.stem.lower()
    for name in assignments:
        if name in stem:
            return name
    for name in assignments:
        short = name.split("_")[0]
        if re.search(rf"(^|[^a-z0-9]){short}([^0-9]|$)", stem):
            return name
    defined = sub.defined_names()
    scores = {name: len(defined & set(funcs)) for name, funcs in assignments.items()}
    best = max(scores, key=scores.get, default=None)
    return best if best and scores[best] > 0 else None
