"""What the instructor and the students see after `grade --feedback`: a per-student feedback
page and the class summary, rendered by Chromium with all their figures."""

import nbformat
import pytest
from conftest import broken_images, open_file_page, screenshot
from selenium.webdriver.common.by import By

from autograder.demo import DEMO_ASSIGNMENT, build_course, student_notebook
from autograder.grading import grade_class
from autograder.mutation import apply_entry, load_catalog, solution_cells
from autograder.suites import load_suite


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    suite = load_suite(DEMO_ASSIGNMENT)
    course = build_course(tmp_path_factory.mktemp("pages") / "course")
    good = solution_cells(suite)
    buggy = apply_entry(good, load_catalog(DEMO_ASSIGNMENT)[0][0].replace)
    for student, cells in (("ann", good), ("ben", buggy)):
        folder = course.root / "submitted" / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        nb = student_notebook(course, DEMO_ASSIGNMENT, cells)
        nbformat.write(nb, folder / f"{suite.notebook}.ipynb")
    grade_class(course.assignment(DEMO_ASSIGNMENT), jobs=2, progress=False, feedback=True)
    return course, suite


def test_feedback_page_renders_with_the_report_and_figures(browser, graded_course):
    course, suite = graded_course
    page = course.root / "feedback" / "ben" / DEMO_ASSIGNMENT / f"{suite.notebook}.html"
    open_file_page(browser, page)
    heading = browser.find_element(By.XPATH, "//h2[contains(., 'Autograder report')]")
    assert f"/ {suite.max_score:g} points" in heading.text
    assert "[failed]" in browser.find_element(By.TAG_NAME, "body").text
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 5 and broken_images(browser) == []
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    screenshot(browser, "feedback-page")


def test_class_summary_renders_with_its_figures(browser, graded_course):
    course, _ = graded_course
    open_file_page(browser, course.root / "summary" / DEMO_ASSIGNMENT / "index.html")
    assert "2 submissions" in browser.find_element(By.TAG_NAME, "body").text
    sizes = [img.get_property("naturalWidth") for img in browser.find_elements(By.TAG_NAME, "img")]
    assert len(sizes) == 2 and min(sizes) > 300 and broken_images(browser) == []
    screenshot(browser, "class-summary")
