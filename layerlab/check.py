"""Run an assignment notebook and report its visible checks: ``python -m layerlab.check NB``.

The notebook is read into memory and that copy is run top to bottom in a fresh Jupyter kernel
(this Python), with the notebook's folder as working directory, as "Restart & Run All" does.
Cells that raise do not stop the run. The file itself is never written.

The report lists every graded check cell that the notebook shows (nbgrader metadata
``grade: true`` and not ``solution``), numbered as JupyterLab numbers cells (1-based over all
cells): its name, its points and its status: ``ok`` (ran without an error), ``failed`` (its
``with checks(name) as check:`` block from ``layerlab.verdicts`` raised ``CheckFailed``),
``error`` (it raised anything else), ``timeout`` or ``not run``. For a failed cell it gives
every ``FAIL`` line the cell printed (the exception's message if it printed none) and the
function named in ``checks(name)``; for an error, the exception, the innermost function of the
notebook it passed through and, when the cause is clear, a hint ("not implemented yet"). It
also lists the solution cells that still ``raise NotImplementedError``. The run adds nothing
to the notebook and changes none of its modules: what a cell prints is not read, except the
``FAIL`` lines of a cell that raised ``CheckFailed``.

This is the public part of the feedback only: the hidden tests that decide the grade are not
part of this package and are not run. Exit status: 0 when every visible check ran cleanly,
1 otherwise, 2 when the command was given something that is not a readable notebook.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HIDDEN_NOTE = (
    "Hidden tests decide the grade and are not run here: a check that runs cleanly can still "
    "lose points. Read each check's printed output in Jupyter as well."
)
DEFAULT_TIMEOUT = 120
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME = re.compile(r"^Cell In\[(\d+)\], line \d+, in (\S+?)\(", re.MULTILINE)
_STUB = re.compile(r"^\s*raise\s+NotImplementedError\b", re.MULTILINE)
# A line Checks.record (layerlab.verdicts) prints for a failed check, and the indent of the
# lines that continue its message.
_FAIL, _MORE = "FAIL  ", "      "
CHECK_FAILED = "CheckFailed"  # the name of layerlab.verdicts.CheckFailed, as the kernel gives it
_CHECKS_OF = re.compile(r"checks of (.+?) failed;")


class UsageError(Exception):
    """The path given is not a notebook this command can read; the message says why."""


@dataclass
class Problem:
    """What went wrong in a cell (an exception, a failed comparison, a dead kernel), as the
    student should read it."""

    type: str
    message: str
    function: str | None = None  # innermost function defined in the notebook, when known
    cell: int | None = None  # the number JupyterLab shows for the cell defining that function
    hint: str | None = None


@dataclass
class CheckResult:
    """One visible check cell: ``status`` is ok, error, failed, timeout or not run."""

    grade_id: str
    points: float
    status: str
    problem: Problem | None = None
    cell: int | None = None  # the number JupyterLab shows for the check cell


@dataclass
class CheckReport:
    notebook: str
    checks: list[CheckResult] = field(default_factory=list)
    not_implemented: list[dict] = field(default_factory=list)  # {"cell", "functions"}
    other_errors: list[dict] = field(default_factory=list)  # {"cell", "problem"}
    kernel_error: str | None = None
    seconds: float = 0.0
    note: str = HIDDEN_NOTE

    @property
    def ok(self) -> bool:
        return self.kernel_error is None and all(c.status == "ok" for c in self.checks)

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def read_notebook(path: Path):
    """The notebook at ``path`` as an nbformat node; ``UsageError`` with a sentence if not."""
    import nbformat

    if not path.exists():
        raise UsageError(f"{path} does not exist: give the path of your .ipynb file.")
    if not path.is_file():
        raise UsageError(f"{path} is a folder: give the path of the .ipynb file in it.")
    if path.suffix != ".ipynb":
        raise UsageError(f"{path} is not a notebook: give the path of the .ipynb file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
        json.loads(text)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file, so it cannot be a notebook.") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): it was probably "
            "truncated or edited outside Jupyter; open it in Jupyter or restore a saved copy."
        ) from None
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception:  # noqa: BLE001  (any validation failure means the same to a student)
        raise UsageError(f"{path} is JSON but not a Jupyter notebook.") from None
    return nb


def _grading(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) if cell.cell_type == "code" else {}


def _label(cell, index: int) -> str:
    return _grading(cell).get("grade_id") or f"cell {index + 1}"


def _number(index: int) -> int:
    """The number JupyterLab shows for the cell at ``index`` (1-based over all cells)."""
    return index + 1


def stub_functions(source: str) -> list[str]:
    """Names of the functions (``Class.method`` for methods) whose own body still raises
    ``NotImplementedError``; ``["?"]`` when the source has a stub but does not parse."""
    if not _STUB.search(source):
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ["?"]

    def raises_stub(node: ast.AST) -> bool:
        return any(
            isinstance(n, ast.Raise)
            and n.exc is not None
            and "NotImplementedError" in ast.unparse(n.exc)
            for n in ast.walk(node)
        )

    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and raises_stub(node):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            names += [
                f"{node.name}.{m.name}"
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and raises_stub(m)
            ]
    return names or ["?"]


def describe_error(
    output, labels_by_count: dict[int, int], defined_in: dict[str, int], timeout: float
) -> Problem:
    """A ``Problem`` from a cell's error output: the exception, the innermost function of
    the notebook it passed through, the cell defining that function, and a hint.

    ``labels_by_count`` maps execution counts to cell numbers (tracebacks name cells
    ``Cell In[N]``); ``defined_in`` maps function names to the number of their cell."""
    message = (output.get("evalue") or "").strip()
    kind = output.get("ename") or "Error"
    traceback = _ANSI.sub("", "\n".join(output.get("traceback") or []))
    function = cell = None
    for count, name in _FRAME.findall(traceback):
        if not name.startswith("<"):  # skip <module>, <lambda>, <listcomp>
            function, cell = name, labels_by_count.get(int(count))
    hint = None
    if kind == "NotImplementedError" or "raised NotImplementedError" in message:
        hint = "not implemented yet"
        function, cell = _stub_named(message, defined_in, function, cell)
    elif kind == "KeyboardInterrupt":
        hint = f"stopped after {timeout:g} s (an endless loop, or far too slow?)"
    elif kind == "NameError":
        hint = "a name is not defined: did a cell above fail, or is a definition missing?"
    elif kind in ("SyntaxError", "IndentationError"):
        hint = "the cell does not parse: fix the line shown in Jupyter"
    message = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(message) > 300:
        message = message[:297] + "..."
    return Problem(kind, message, function, cell, hint)


def _stub_named(message: str, defined_in: dict[str, int], function, cell):
    """``(function, cell)`` of the stub a message says raised NotImplementedError (as
    check_layer reports one), else the ``function`` and ``cell`` given."""
    stub = re.search(r"raised NotImplementedError.*?, in (\w+)\)", message)
    if not stub:
        return function, cell
    return stub.group(1), defined_in.get(stub.group(1), cell)


def fail_lines(stdout: str) -> list[str]:
    """The failed checks a cell printed, as printed: each line ``FAIL  <message>`` that
    ``checks`` writes, with the indented lines that continue a message of several lines."""
    lines: list[str] = []
    inside = False  # the line before belongs to a FAIL message
    for line in _ANSI.sub("", stdout).splitlines():
        inside = line.startswith(_FAIL) or (inside and line.startswith(_MORE))
        if inside:
            lines.append(line.rstrip())
    return lines


def describe_failure(output, stdout: str, defined_in: dict[str, int]) -> Problem:
    """A ``Problem`` for a cell whose error is ``CheckFailed``: the function named in
    ``checks(name)`` and, as message, every failed check the cell printed (the exception's
    own message when ``stdout`` holds none). A stub that check_layer caught is named instead,
    with the hint "not implemented yet"."""
    summary = (output.get("evalue") or "").strip()
    named = _CHECKS_OF.search(summary)
    function = named.group(1) if named else None
    message = "\n".join(fail_lines(stdout)) or summary
    hint = None
    cell = defined_in.get(function) if function else None
    if "raised NotImplementedError" in message:
        hint = "not implemented yet"
        function, cell = _stub_named(message, defined_in, function, cell)
    return Problem(CHECK_FAILED, message, function, cell, hint)


def run_checks(path: Path, timeout: float = DEFAULT_TIMEOUT) -> CheckReport:
    """Run a copy of the notebook at ``path`` and report its visible checks (writes nothing)."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = read_notebook(path)
    report = CheckReport(notebook=str(path))
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    checks = [
        (i, c) for i, c in code if _grading(c).get("grade") and not _grading(c).get("solution")
    ]
    if not checks:
        raise UsageError(
            f"{path} has no graded check cells: give an assignment notebook of the course."
        )
    defined_in = {}
    for i, c in code:
        for name in re.findall(r"^\s*def\s+(\w+)", c.source, re.MULTILINE):
            defined_in.setdefault(name, _number(i))
        names = stub_functions(c.source) if _grading(c).get("solution") else []
        if names:
            report.not_implemented.append({"cell": f"cell {_number(i)}", "functions": names})

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",  # the Python running this command, where layerlab is
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    started = []  # the cells in the order they started: the last one is running
    client.on_cell_start = lambda cell, cell_index: started.append(cell)
    start = time.monotonic()
    try:  # the kernel's own log lines (transport warnings) would only confuse here
        client.execute(stderr=subprocess.DEVNULL)
    except Exception as exc:  # noqa: BLE001  (kernel died or could not start: report it)
        report.kernel_error = f"{type(exc).__name__}: " + str(exc).strip().split("\n")[0]
    report.seconds = round(time.monotonic() - start, 1)

    labels = {c.execution_count: _number(i) for i, c in code if c.get("execution_count")}
    crashed = started[-1] if report.kernel_error and started else None  # the kernel died here
    check_ids = {i for i, _ in checks}
    for i, c in code:
        outputs = c.get("outputs", [])
        error = next((o for o in outputs if o.output_type == "error"), None)
        if error and error.get("ename") == CHECK_FAILED:
            stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
            problem = describe_failure(error, stdout, defined_in)
        elif error:
            problem = describe_error(error, labels, defined_in, timeout)
        else:
            problem = None
        if c is crashed and not problem:
            hint = "Python stopped while running this cell: a crash, os._exit, out of memory?"
            problem = Problem("kernel died", "", hint=hint)
        if i in check_ids:
            meta = _grading(c)
            status = "ok"
            if problem and problem.type == CHECK_FAILED:
                status = "failed"
            elif problem:
                status = "timeout" if problem.type == "KeyboardInterrupt" else "error"
            elif not c.get("execution_count"):
                status = "not run"
            points = float(meta.get("points", 0))
            report.checks.append(CheckResult(_label(c, i), points, status, problem, _number(i)))
        elif problem:
            report.other_errors.append({"cell": f"cell {_number(i)}", "problem": asdict(problem)})
    return report


def explain(p: Problem) -> str:
    """One line for a student: what went wrong, where, and what it probably means."""
    cell = f" (cell {p.cell})" if p.cell else ""
    if p.hint == "not implemented yet":
        return f"{p.function or 'a function it calls'}{cell} is not implemented yet"
    if p.type == CHECK_FAILED:
        return f"checks of {p.function}{cell} failed" if p.function else "checks failed"
    text = f"{p.type}: {p.message}" if p.message else p.type
    if p.function:
        text += f", raised in {p.function}{cell}"
    return text + (f" ({p.hint})" if p.hint else "")


def render(report: CheckReport) -> str:
    """The report as text for a terminal."""
    lines = [f"layerlab check: {report.notebook}  (ran in {report.seconds:g} s)", ""]
    named = [f"cell {c.cell}" + ("" if c.grade_id.startswith("cell ") else f" ({c.grade_id})")
             for c in report.checks]  # fmt: skip
    width = max(len(n) for n in named)
    lines.append("Visible checks:")
    for c, name in zip(report.checks, named, strict=True):
        line = f"  {c.status:<8} {name:<{width}}  {c.points:>3g} pt"
        lines.append(line + (f"  {explain(c.problem)}" if c.problem else ""))
        if c.status == "failed":  # every failed check, as the cell printed it
            lines += [" " * 11 + text for text in c.problem.message.splitlines()]
    if report.not_implemented:
        lines += ["", "Still to write (solution cells that raise NotImplementedError):"]
        for entry in report.not_implemented:
            lines.append(f"  {entry['cell']}: {', '.join(entry['functions'])}")
    if report.other_errors:
        lines += ["", "Other cells that raised (set-up, experiments; cell N = N-th from the top):"]
        for entry in report.other_errors[:5]:
            problem = Problem(**entry["problem"])
            lines.append(f"  {entry['cell']}: {explain(problem)}")
            if problem.type == CHECK_FAILED:
                lines += [" " * 4 + text for text in problem.message.splitlines()]
        if len(report.other_errors) > 5:
            lines.append(f"  ... and {len(report.other_errors) - 5} more")
    if report.kernel_error:
        lines += ["", f"The run stopped early: {report.kernel_error}"]
    clean = sum(c.status == "ok" for c in report.checks)
    summary = f"{clean} of {len(report.checks)} visible checks ran cleanly"
    lines += ["", f"{summary} (no error, no failed check).", report.note]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layerlab.check",
        description="Run a copy of an assignment notebook and report its visible checks "
        "(the hidden tests that decide the grade are not run).",
    )
    parser.add_argument("notebook", type=Path, help="your .ipynb file (it is not modified)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds one cell may run before it is stopped (default {DEFAULT_TIMEOUT})",
    )
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    try:
        report = run_checks(args.notebook, timeout=args.timeout)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(), indent=1) if args.json else render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
