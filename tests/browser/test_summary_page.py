"""The class summary as the instructor sees it in Chromium: figures load, the student table
sorts on click and links each feedback page, a hostile message stays text, and long messages
wrap inside the page."""

import importlib.util
from pathlib import Path

import pytest
from conftest import broken_images, open_file_page, screenshot
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from autograder.summary import write_summary

_spec = importlib.util.spec_from_file_location(
    "summary_helpers", Path(__file__).resolve().parents[1] / "test_summary.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

NAMES = [
    ("Ada", "Lovelace"),
    ("Alan", "Turing"),
    ("Grace", "Hopper"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
    ("Donald", "Knuth"),
    ("Frances", "Allen"),
    ("John", "Backus"),
    ("Margaret", "Hamilton"),
    ("Niklaus", "Wirth"),
]
GRADIENT = (  # a long message as the gradient checks write them, to wrap on the page
    "dx: relative error 1.0 at [3, 1] (analytic 0.12, numeric -0.48); 37 of 60 entries are off "
    "(tolerance 1e-07). The entries that are off are exactly those where x < 0: the backward "
    "pass lets the upstream gradient through where the forward pass blocked it. Multiply dout "
    "by the mask (x > 0) computed in the forward pass and kept in the cache, instead of "
    "recomputing it from the output, which is 0 there for every negative input."
)
STATUSES = [
    ["passed"] * 3,
    ["passed", "failed", "passed"],
    ["error", "error", "failed"],
    ["passed", "passed", "failed"],
    ["passed"] * 3,
    ["failed", "failed", "passed"],
    ["passed", "failed", "failed"],
    ["passed"] * 3,
    ["timeout", "timeout", "passed"],
    ["passed", "passed", "failed"],
]


@pytest.fixture(scope="module")
def summary_page(tmp_path_factory):
    students = {
        f"{2001 + i}": {
            "first": first,
            "last": last,
            "auto": 3.0 * (i % 3) / 2,
            "manual": 2.0 if i % 2 else None,
        }
        for i, (first, last) in enumerate(NAMES)
    }
    root = helpers.make_course(tmp_path_factory.mktemp("summary-page") / "course", students)
    helpers.write_manifest(root, late=["2002", "2007"])
    messages = {
        "relu_forward": helpers.HOSTILE,
        "relu_backward": GRADIENT,
        "softmax_forward": "softmax(x) overflows for |x| > 700: use x - x.max()",
    }
    reports = [
        helpers.test_report(s, st, messages) for s, st in zip(students, STATUSES, strict=True)
    ]
    for student in list(students)[:6]:  # the others have no feedback page yet
        page = root / "feedback" / student / helpers.ASSIGNMENT / f"{helpers.NOTEBOOK}.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html><body><h1>feedback for {student}</h1></body></html>")
    return write_summary(root, helpers.ASSIGNMENT, reports)


def column(browser, index: int) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#students tbody tr")
    return [row.find_elements(By.TAG_NAME, "td")[index].text for row in rows]


def test_summary_page_sorts_links_and_stays_text(browser, summary_page):
    open_file_page(browser, summary_page)
    assert broken_images(browser) == []
    screenshot(browser, "class-summary-top")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()  # the hostile message ran nothing
    body = browser.find_element(By.TAG_NAME, "body").text
    assert '<script>alert("x")</script>' in body  # shown as the student wrote it
    # Long messages wrap: nothing sticks out of the page sideways.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    header = browser.find_element(By.XPATH, "//table[@id='students']//th[.='autograded']")
    header.click()
    scores = [float(text.split(" / ")[0]) for text in column(browser, 2)]
    assert scores == sorted(scores) and scores[0] < scores[-1]
    header.click()
    assert [float(t.split(" / ")[0]) for t in column(browser, 2)] == sorted(scores, reverse=True)
    browser.find_element(By.XPATH, "//table[@id='students']//th[.='name']").click()
    names = column(browser, 1)
    assert names == sorted(names) and names[0] == "Ada Lovelace"
    assert "LATE" in column(browser, 6)
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "students"))
    screenshot(browser, "class-summary-students")
    browser.execute_script(
        "arguments[0].scrollIntoView()", browser.find_element(By.ID, "functions")
    )
    screenshot(browser, "class-summary-functions")
    link = browser.find_element(By.CSS_SELECTOR, "#students tbody tr a")
    student = link.find_element(By.XPATH, "./ancestor::tr/td[1]").text
    link.click()
    assert browser.find_element(By.TAG_NAME, "h1").text == f"feedback for {student}"
