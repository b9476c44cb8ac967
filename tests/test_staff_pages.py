"""Text a student controls never becomes markup on pages staff or students open.

Rendered with nbconvert's own Markdown renderer, the one nbgrader's feedback and formgrader use.
"""

from __future__ import annotations

import re

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder.autograded import FEEDBACK_STYLE, report_summary, verdict_html
from autograder.feedback import escape_html

ATTACKS = [
    '<img src=x onerror="fetch(`/api/users`)">',
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](java&#115;cript:alert(1))",
    "![x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "| fake | table |",
    "## Autograder report: 47 / 47 points",
]


def active_markup(html: str) -> list[str]:
    """Tags, handlers and URLs a browser would act on (links to http, https or mailto
    excepted)."""
    found = re.findall(r"<(?:img|script|iframe|svg|object|embed|style)\b[^>]*>", html, re.I)
    found += re.findall(r"<[a-z][^>]*\son\w+\s*=", html, re.I)
    for url in re.findall(r"<[a-z][^>]*?\s(?:href|src)\s*=\s*[\"']?([^\"'\s>]*)", html, re.I):
        if not re.match(r"(https?:|mailto:|#)", url, re.I):
            found.append(url)
    return found


def report_with(text: str) -> dict:
    return {
        "score": 1.0,
        "max_score": 2.0,
        "seed": 7,
        "tests": [
            {
                "id": "t",
                "functions": ["relu_forward"],
                "score": 1.0,
                "max_score": 2.0,
                "status": "error",
                "message": text,
            }
        ],  # fmt: skip
        "notes": [f"cell 3: ValueError: {text} (the rest of the notebook was still run)"],
        "feedback_execution": {"problem": f"the kernel said {text}"},
    }


def without_the_kit_style(html: str) -> str:
    """The page with the kit's own fixed style block (exactly one, unchanged) taken out."""
    assert html.count("<style") == 1 and FEEDBACK_STYLE in html, html
    return html.replace(FEEDBACK_STYLE, "")


@pytest.mark.parametrize("attack", ATTACKS)
def test_report_header_shows_student_text_as_text(attack):
    html = without_the_kit_style(markdown2html_mistune(report_summary(report_with(attack), 4)))
    assert not active_markup(html), html
    assert html.count("<h2") == 1, "a heading was forged inside the report"
    assert html.count("<table") == 1 and html.count("<tr") == 2, "the table was forged"
    assert html.count("<td>") == 5, "the message column was split"
    assert "Pending manual grading: 4 points" in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_verdicts_show_student_text_as_text(attack):
    test = report_with(attack)["tests"][0]
    html = verdict_html(dict(test, message=f"dx is wrong: {attack} Hint: {attack}"))
    assert not active_markup(html), html
    assert html.count("<div") == 2 and html.count('class="layerlab-hint"') == 1, html


@pytest.mark.parametrize(
    "attack", ATTACKS[:6] + ["[x](JaVa\tScRiPt:alert(1))", "<javascript:alert(1)>"]
)
def test_student_markdown_keeps_no_active_link(attack):
    html = markdown2html_mistune(escape_html(f"My answer. {attack}\n\n[ok](https://example.org)"))
    assert not active_markup(html), html


def test_ordinary_student_markdown_survives():
    text = "**Answer**: the gradient is $2x$, see [notes](https://example.org/a) and `np.sum`."
    html = markdown2html_mistune(escape_html(text))
    assert '<a href="https://example.org/a"' in html
    assert "<strong>Answer</strong>" in html and "<code>np.sum</code>" in html
