"""The helpers for rendered HTML pages (feedback and class-summary pages) work in Chromium."""

import base64
import io

from conftest import broken_images, open_file_page, page_has_loaded_images, screenshot
from matplotlib.figure import Figure
from selenium.webdriver.common.by import By


def png_data_uri() -> str:
    fig = Figure(figsize=(3, 2), dpi=80)  # no pyplot: no global state, no GUI backend
    ax = fig.subplots()
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9], marker="o")
    ax.set_title("tiny plot")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def write_page(path, *img_srcs):
    images = "\n".join(f'<img alt="figure {i}" src="{src}">' for i, src in enumerate(img_srcs))
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>helper check</title></head>"
        f"<body><h1>Feedback for alice</h1><p>Score: 45 / 47</p>\n{images}\n</body></html>",
        encoding="utf-8",
    )
    return path


def test_file_page_with_inline_png_renders(browser, tmp_path):
    page = write_page(tmp_path / "feedback.html", png_data_uri())
    open_file_page(browser, page)
    screenshot(browser, "page-helpers-inline-png")

    assert browser.title == "helper check"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Feedback for alice"
    size = browser.execute_script(
        "const img = document.images[0]; return [img.naturalWidth, img.naturalHeight];"
    )
    assert size == [240, 160]  # 3 x 2 inches at 80 dpi
    assert broken_images(browser) == []
    assert page_has_loaded_images(browser)


def test_broken_image_is_reported(browser, tmp_path):
    page = write_page(tmp_path / "broken.html", png_data_uri(), "missing-figure.png")
    open_file_page(browser, page)

    assert not page_has_loaded_images(browser)
    [broken] = broken_images(browser)
    assert broken.endswith("/missing-figure.png")
