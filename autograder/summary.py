"""The class summary of one assignment: score distribution, pass rates per graded function and
per test, and the most common failure messages, as ``summary/NAME/index.html`` with figures.

Built from the judge's reports only (``.layerlab/reports/NAME/*.json``); every text that can
come from a student (exception messages) is escaped.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path

MAX_MESSAGES = 3


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


def per_test_rows(reports: list[dict]) -> list[dict]:
    """Per test: pass rate, mean points and the most frequent failure messages."""
    rows: dict[str, dict] = {}
    for report in reports:
        for test in report["tests"]:
            row = rows.setdefault(test["id"], {"id": test["id"], "max": test["max_score"],
                                               "passed": 0, "points": 0.0, "n": 0,
                                               "messages": Counter()})  # fmt: skip
            row["n"] += 1
            row["points"] += test["score"]
            if test["status"] == "passed":
                row["passed"] += 1
            else:
                first = (test.get("message") or test["status"]).splitlines()[0][:200]
                row["messages"][f"[{test['status']}] {first}"] += 1
    return list(rows.values())


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


def write_summary(root: Path, assignment: str, reports: list[dict]) -> Path:
    """Write ``root/summary/ASSIGNMENT/`` (index.html, scores.png, functions.png)."""
    out = root / "summary" / assignment
    out.mkdir(parents=True, exist_ok=True)
    scores = [r["score"] for r in reports]
    max_score = max((r["max_score"] for r in reports), default=0.0)
    rates = function_pass_rates(reports)

    def scores_plot(ax):
        ax.hist(scores, bins=min(20, max(5, len(scores) // 3)), range=(0, max_score or 1),
                color="#4c72b0", edgecolor="white")  # fmt: skip
        ax.set(xlabel=f"score (of {max_score:g})", ylabel="students",
               title=f"{assignment}: score distribution (n = {len(scores)})")  # fmt: skip

    def functions_plot(ax):
        names = sorted(rates, key=rates.get)
        ax.barh(names, [100 * rates[n] for n in names], color="#55a868")
        ax.set(xlim=(0, 100), xlabel="% of students passing every test of the function",
               title="pass rate per graded function")  # fmt: skip
        ax.tick_params(axis="y", labelsize=8)

    (out / "scores.png").write_bytes(_figure_png(scores_plot))
    height = max(3.6, 1.2 + 0.22 * len(rates))
    (out / "functions.png").write_bytes(_figure_png(functions_plot, height))
    (out / "index.html").write_text(_page(assignment, reports, scores, max_score))
    return out / "index.html"


def _page(assignment, reports, scores, max_score) -> str:
    esc = html.escape
    n = len(reports)
    mean = sum(scores) / n if n else 0.0
    full = sum(1 for s in scores if s >= max_score)
    rows = []
    for row in per_test_rows(reports):
        common = "<br>".join(
            f"{count}&times; {esc(text)}"
            for text, count in row["messages"].most_common(MAX_MESSAGES)
        )
        rows.append(
            f"<tr><td>{esc(row['id'])}</td><td>{100 * row['passed'] / row['n']:.0f}%</td>"
            f"<td>{row['points'] / row['n']:.2f} / {row['max']:g}</td><td>{common}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(assignment)}: class summary</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.3rem; text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(assignment)}: class summary</h1>
<p>{n} submissions; mean score {mean:.2f} of {max_score:g}; {full} with full marks.</p>
<img src="scores.png" alt="histogram of scores">
<img src="functions.png" alt="pass rate per graded function">
<h2>Tests</h2>
<table><tr><th>test</th><th>passed</th><th>mean points</th><th>most common failures</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""
