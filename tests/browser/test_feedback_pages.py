"""What the instructor and the students see after `grade --feedback`: a per-student feedback
page and the class summary, rendered by Chromium with all their figures."""

import json
import re

import nbformat
import pytest
from conftest import broken_images, open_file_page, screenshot
from selenium.webdriver.common.by import By

from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.grading import grade_class
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite

# ben's bug: its verdict comes with a hint ("it uses x * (1 - x); the derivative is ...").
BUG = "sigmoid_backward_uses_x"
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path_factory.mktemp("pages") / "course")
    good = solution_cells(suite)
    bug = next(e for e in load_catalog(DEMO_ASSIGNMENT)[0] if e.id == BUG)
    for student, cells in (("ann", good), ("ben", apply_entry(good, bug.replace))):
        folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        nb = student_notebook(course, DEMO_ASSIGNMENT, cells)
        nbformat.write(nb, folder / f"{suite.notebook}.ipynb")
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False, feedback=True)
    return course, suite


@pytest.fixture
def laptop(browser):
    """The browser with a 1366 x 768 viewport (a common laptop screen) for one test."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {**LAPTOP, "deviceScaleFactor": 1, "mobile": False}
    )
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def feedback_page(course, suite, student: str):
    return course.root / "feedback" / student / DEMO_ASSIGNMENT / f"{suite.notebook}.html"


def test_feedback_page_renders_with_the_report_and_figures(browser, graded_course):
    course, suite = graded_course
    open_file_page(browser, feedback_page(course, suite, "ben"))
    heading = browser.find_element(By.XPATH, "//h2[contains(., 'Autograder report')]")
    body = browser.find_element(By.TAG_NAME, "body").text
    report = course.root / ".layerlab" / "reports" / DEMO_ASSIGNMENT / "ben.json"
    score = json.loads(report.read_text())["score"]
    assert 0 < score < suite.max_score
    assert f"Autograded: {score:g} / {suite.max_score:g}." in body
    assert "[failed]" in body and "Pending manual grading: 10 points" in body
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 5 and broken_images(browser) == []
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    screenshot(browser, "feedback-page")


VIEW = """
const verdict = document.querySelector('.layerlab-verdict:not(.layerlab-passed)');
verdict.scrollIntoView({block: 'start'});
const hint = verdict.querySelector('.layerlab-hint').parentElement;
const box = hint.getBoundingClientRect();
const prompt = verdict.closest('.output_area').querySelector('.output_prompt');
return {
  text: verdict.innerText,
  box: [box.left, box.top, box.right, box.bottom],
  view: [window.innerWidth, window.innerHeight],
  pageWidth: document.documentElement.scrollWidth,
  prompt: getComputedStyle(prompt).visibility,
  rows: Array.from(document.querySelectorAll('.layerlab-report tr'), r => r.innerText),
  tableRight: document.querySelector('.layerlab-report table').getBoundingClientRect().right,
};
"""


def test_first_failing_verdicts_hint_is_in_view_at_laptop_width(laptop, graded_course):
    course, suite = graded_course
    open_file_page(laptop, feedback_page(course, suite, "ben"))
    screenshot(laptop, "feedback-header-1366")
    seen = laptop.execute_script(VIEW)
    screenshot(laptop, "feedback-first-failing-verdict-1366")
    width, height = seen["view"]
    assert width == LAPTOP["width"], seen
    assert seen["text"].startswith("[failed]") and "Hint: it uses x * (1 - x)" in seen["text"]
    left, top, right, bottom = seen["box"]
    assert 0 <= left < right <= width and 0 <= top < bottom <= height, seen
    assert seen["pageWidth"] <= width, "the page scrolls sideways"
    assert seen["prompt"] == "hidden", "an Out[ ] prompt sits beside the verdict"
    row = next(r for r in seen["rows"] if r.startswith("sigmoid_backward\t"))  # the header table
    assert re.search(r"\t[0-9.]+ / 1\tfailed\t", row) and "Hint: it uses x * (1 - x)" in row
    assert seen["tableRight"] <= width


def test_class_summary_renders_with_its_figures(browser, graded_course):
    course, _ = graded_course
    open_file_page(browser, course.root / "summary" / DEMO_ASSIGNMENT / "index.html")
    assert "2 submissions" in browser.find_element(By.TAG_NAME, "body").text
    sizes = [img.get_property("naturalWidth") for img in browser.find_elements(By.TAG_NAME, "img")]
    assert len(sizes) == 2 and min(sizes) > 300 and broken_images(browser) == []
    screenshot(browser, "class-summary")
