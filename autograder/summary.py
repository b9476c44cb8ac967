"""The class view of one assignment: the page ``summary/NAME/index.html`` (score histogram,
pass rate per graded function, a sortable table of students linking to their feedback pages,
the most common failure messages per function and per test) and ``class_table``, the same
per-student facts as text for the end of ``grade``.

Built from the judge's reports, plus what the gradebook and the intake manifest know (names,
points still to be graded by hand, late submissions) when they can be read. Every text that
can come from a student (messages, names, ids) is escaped; messages are shown whole.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path
from urllib.parse import quote

MAX_MESSAGES = 3


# ----------------------------------------------------------------------------- statistics


def function_pass_rates(reports: list[dict]) -> dict[str, float]:
    """``{function: share of students all of whose tests exercising it passed}``."""
    passed, seen = Counter(), Counter()
    for report in reports:
        ok: dict[str, bool] = {}
        for test in report["tests"]:
            for name in test["functions"]:
                ok[name] = ok.get(name, True) and test["status"] == "passed"
        for name, good in ok.items():
            seen[name] += 1
            passed[name] += good
    return {name: passed[name] / seen[name] for name in seen}


def failure_text(test: dict) -> str:
    """A failed test's whole message, status first."""
    return f"[{test['status']}] {test.get('message') or test['status']}"


def per_test_rows(reports: list[dict]) -> list[dict]:
    """Per test: ``id``, ``max``, ``n`` students, ``passed``, total ``points`` and a Counter
    of whole failure ``messages``."""
    rows: dict[str, dict] = {}
    for report in reports:
        for test in report["tests"]:
            row = rows.setdefault(
                test["id"],
                {
                    "id": test["id"],
                    "max": test["max_score"],
                    "passed": 0,
                    "points": 0.0,
                    "n": 0,
                    "messages": Counter(),
                },
            )
            row["n"] += 1
            row["points"] += test["score"]
            if test["status"] == "passed":
                row["passed"] += 1
            else:
                row["messages"][failure_text(test)] += 1
    return list(rows.values())


def function_failures(reports: list[dict]) -> dict[str, Counter]:
    """``{function: Counter of whole failure messages of the tests exercising it}``."""
    found: dict[str, Counter] = {}
    for report in reports:
        for test in report["tests"]:
            for name in test["functions"]:
                counter = found.setdefault(name, Counter())
                if test["status"] != "passed":
                    counter[failure_text(test)] += 1
    return found


def class_info(root: Path, assignment: str) -> dict:
    """``{student: (Person, Grade)}`` from the gradebook and the intake manifest; ``{}`` when
    the gradebook cannot be read (then names, manual points and lateness are not shown)."""
    from autograder.judge import UsageError
    from autograder.lms.records import graded_people

    try:
        _, people = graded_people(Path(root), assignment)
    except (UsageError, ImportError, OSError, ValueError):
        return {}
    return {person.student: (person, grade) for person, grade in people}


# ----------------------------------------------------------------------------- the text table


def class_table(
    root: Path, assignment: str, reports: dict[str, dict], previous: dict[str, dict] | None = None
) -> str:
    """One line per student: autograded score, tests passed, points still to grade by hand,
    LATE, and (with ``previous``, the reports before this run, ``{}`` or absent for a student
    not graded before) what changed."""
    info = class_info(root, assignment)
    head = f"{'student':<14} {'name':<22} {'autograded':>12} {'tests':>7} {'to grade':>8}  late"
    if previous is not None:
        head += "  change"
    lines = [head, "-" * len(head)]
    pending_total, pending_students = 0.0, 0
    for student in sorted(reports):
        data = reports[student]
        person, grade = info.get(student, (None, None))
        passed = sum(t["status"] == "passed" for t in data["tests"])
        manual = "?" if grade is None else (f"{grade.pending:g}" if grade.pending else "-")
        if grade is not None and grade.pending:
            pending_total += grade.pending
            pending_students += 1
        name = _printable(person.full_name) if person and person.full_name != student else ""
        late = "LATE" if person and person.late else ""
        score = f"{data['score']:.2f}/{data['max_score']:g}"
        tests = f"{passed}/{len(data['tests'])}"
        shown = _printable(student)[:14]
        line = f"{shown:<14} {name[:22]:<22} {score:>12} {tests:>7} {manual:>8}  {late:<4}"
        if previous is not None:
            line += f"  {_change(data, previous.get(student))}"
        lines.append(line.rstrip())
    scores = [r["score"] for r in reports.values()]
    mean = sum(scores) / len(scores) if scores else 0.0
    lines.append("-" * len(head))
    lines.append(f"{len(reports)} students, mean autograded score {mean:.2f}")
    if pending_students:
        lines.append(
            f"to grade by hand: {pending_total:g} points over {pending_students} submissions "
            "(nbgrader formgrader)"
        )
    return "\n".join(lines)


def _printable(text: str) -> str:
    """No terminal control characters from names or ids."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _change(data: dict, before: dict | None) -> str:
    if not before or "score" not in before:  # no report before this run
        return "new"
    delta = data["score"] - before["score"]
    if abs(delta) < 1e-9:
        return ""
    return f"{delta:+.2f} (was {before['score']:.2f})"


# ----------------------------------------------------------------------------- the page


def _figure_png(draw, height: float = 3.6) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, height), dpi=100)
    draw(ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def draw_scores(ax, scores: list[float], max_score: float, assignment: str) -> None:
    """Histogram of the autograded scores; the count axis has whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    ax.hist(
        scores,
        bins=min(20, max(5, len(scores) // 3)),
        range=(0, max_score or 1),
        color="#4c72b0",
        edgecolor="white",
    )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(
        xlabel=f"autograded score (of {max_score:g})",
        ylabel="students",
        title=f"{assignment}: score distribution (n = {len(scores)})",
    )


def write_summary(root: Path, assignment: str, reports: list[dict]) -> Path:
    """Write ``root/summary/ASSIGNMENT/`` (index.html, scores.png, functions.png)."""
    root = Path(root)
    out = root / "summary" / assignment
    out.mkdir(parents=True, exist_ok=True)
    scores = [r["score"] for r in reports]
    max_score = max((r["max_score"] for r in reports), default=0.0)
    rates = function_pass_rates(reports)

    def functions_plot(ax):
        names = sorted(rates, key=rates.get)
        ax.barh(names, [100 * rates[n] for n in names], color="#55a868")
        ax.set(
            xlim=(0, 100),
            xlabel="% of students passing every test of the function",
            title="pass rate per graded function",
        )
        ax.tick_params(axis="y", labelsize=8)

    (out / "scores.png").write_bytes(
        _figure_png(lambda ax: draw_scores(ax, scores, max_score, assignment))
    )
    height = max(3.6, 1.2 + 0.22 * len(rates))
    (out / "functions.png").write_bytes(_figure_png(functions_plot, height))
    info = class_info(root, assignment)
    (out / "index.html").write_text(_page(root, assignment, reports, info), encoding="utf-8")
    return out / "index.html"


def feedback_href(assignment: str, student: str, notebook: str) -> str:
    """The feedback page's address relative to ``summary/ASSIGNMENT/index.html``."""
    parts = ("..", "..", "feedback", student, assignment, f"{notebook}.html")
    return "/".join(quote(p, safe="") if p != ".." else p for p in parts)


def _notebook(assignment: str) -> str:
    from autograder.suites import load_suite

    try:
        return load_suite(assignment).notebook
    except (KeyError, ImportError):
        return assignment


def _messages(counter: Counter) -> str:
    esc = html.escape
    return "".join(
        f'<li><span class="count">{count}&times;</span> <span class="msg">{esc(text)}</span></li>'
        for text, count in counter.most_common(MAX_MESSAGES)
    )


def _student_rows(root: Path, assignment: str, reports: list[dict], info: dict) -> list[str]:
    esc = html.escape
    notebook = _notebook(assignment)
    rows = []
    for report in sorted(reports, key=lambda r: r.get("student", "")):
        student = str(report.get("student", ""))
        person, grade = info.get(student, (None, None))
        passed = sum(t["status"] == "passed" for t in report["tests"])
        href = feedback_href(assignment, student, notebook)
        page = root / "feedback" / student / assignment / f"{notebook}.html"
        link = (
            f'<a href="{esc(href)}">feedback</a>'
            if page.is_file()
            else '<span class="none">not generated</span>'
        )
        pending = grade.pending if grade is not None else None
        pct = 100 * report["score"] / report["max_score"] if report["max_score"] else 0.0
        name = person.full_name if person is not None else ""
        late = person is not None and person.late
        rows.append(
            "<tr>"
            f'<td data-sort="{esc(student)}">{esc(student)}</td>'
            f'<td data-sort="{esc(name)}">{esc(name)}</td>'
            f'<td data-sort="{report["score"]:.6f}">{report["score"]:g} / {report["max_score"]:g}'
            f"</td>"
            f'<td data-sort="{pct:.6f}">{pct:.0f}%</td>'
            f'<td data-sort="{passed}">{passed} / {len(report["tests"])}</td>'
            f'<td data-sort="{-1 if pending is None else f"{pending:g}"}">'
            f"{'' if pending is None else (f'{pending:g}' if pending else '-')}</td>"
            f'<td data-sort="{int(late)}">{"LATE" if late else ""}</td>'
            f"<td>{link}</td></tr>"
        )
    return rows


SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(table => {
  table.querySelectorAll("th").forEach((th, col) => th.addEventListener("click", () => {
    const up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    const key = row => row.cells[col].dataset.sort ?? row.cells[col].textContent;
    const body = table.tBodies[0];
    [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b), nx = Number(x), ny = Number(y);
      const c = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
      return up ? c : -c;
    }).forEach(row => body.appendChild(row));
  }));
});
"""

STYLE = """
body { font-family: sans-serif; max-width: 64rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin-bottom: 2rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.3rem; text-align: left; vertical-align: top; }
table.sortable th { cursor: pointer; user-select: none; background: #f4f4f4; }
table.sortable th::after { content: " \\2195"; color: #999; }
table.sortable th[aria-sort=ascending]::after { content: " \\2191"; color: #222; }
table.sortable th[aria-sort=descending]::after { content: " \\2193"; color: #222; }
ul.failures { margin: 0; padding-left: 1rem; }
.msg { white-space: pre-wrap; overflow-wrap: break-word; font-family: monospace; }
.count { font-weight: bold; }
.none { color: #888; }
img { max-width: 100%; }
"""


def _page(root: Path, assignment: str, reports: list[dict], info: dict) -> str:
    esc = html.escape
    n = len(reports)
    scores = [r["score"] for r in reports]
    max_score = max((r["max_score"] for r in reports), default=0.0)
    mean = sum(scores) / n if n else 0.0
    full = sum(1 for s in scores if s >= max_score)
    pending = [g.pending for _, g in info.values() if g.pending]
    manual = (
        f" {len(pending)} submissions have {sum(pending):g} points still to grade by hand."
        if pending
        else ""
    )
    rates = function_pass_rates(reports)
    failures = function_failures(reports)
    function_rows = [
        f"<tr><td>{esc(name)}</td><td>{100 * rates[name]:.0f}%</td>"
        f'<td><ul class="failures">{_messages(failures.get(name, Counter()))}</ul></td></tr>'
        for name in sorted(rates, key=lambda k: (rates[k], k))
    ]
    test_rows = [
        f"<tr><td>{esc(row['id'])}</td><td>{100 * row['passed'] / row['n']:.0f}%</td>"
        f"<td>{row['points'] / row['n']:.2f} / {row['max']:g}</td>"
        f'<td><ul class="failures">{_messages(row["messages"])}</ul></td></tr>'
        for row in per_test_rows(reports)
    ]
    nl = "\n"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(assignment)}: class summary</title>
<style>{STYLE}</style></head><body>
<h1>{esc(assignment)}: class summary</h1>
<p>{n} submissions; mean autograded score {mean:.2f} of {max_score:g}; {full} with full
marks.{manual}</p>
<img src="scores.png" alt="histogram of scores">
<img src="functions.png" alt="pass rate per graded function">
<h2>Students</h2>
<p>Click a column to sort. "manual" is the points still to grade by hand.</p>
<table class="sortable" id="students"><thead><tr><th>student</th><th>name</th>
<th>autograded</th><th>%</th><th>tests passed</th><th>manual</th><th>late</th>
<th>feedback</th></tr></thead>
<tbody>
{nl.join(_student_rows(root, assignment, reports, info))}
</tbody></table>
<h2>Graded functions</h2>
<table id="functions"><thead><tr><th>function</th><th>students passing</th>
<th>most common failures</th></tr></thead><tbody>
{nl.join(function_rows)}
</tbody></table>
<h2>Tests</h2>
<table id="tests"><thead><tr><th>test</th><th>passed</th><th>mean points</th>
<th>most common failures</th></tr></thead><tbody>
{nl.join(test_rows)}
</tbody></table>
<script>{SORT_SCRIPT}</script>
</body></html>
"""
