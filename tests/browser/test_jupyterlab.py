"""A student's first minutes with the released a1 notebook, in a real JupyterLab and browser.

JupyterLab serves a copy of assignments/a1_activations/. The test opens the notebook, waits
for the kernel, runs the first code cells with Shift+Enter as a student would and reads what
the page shows: the imports (numpy, scipy, layerlab) run cleanly in the notebook's kernel, the
`rel_error` stub defines without error, and its visible check reports NotImplementedError
until the student writes the function. No code cell of the released notebook prints anything
without calling a student function, so that traceback is the deterministic output to check.
"""

import re

from conftest import screenshot
from selenium.common.exceptions import StaleElementReferenceException as StaleError
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

NOTEBOOK = "a1_activations.ipynb"
LOAD_TIMEOUT = 60  # first JupyterLab load and kernel start: 5-10 s here, slower on CI
RUN_TIMEOUT = 30  # running the three cells (the imports dominate)

CODE_CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell"
KERNEL_IDLE = re.compile(r"Python 3 \(ipykernel\) \| Idle")


def click(css: str):
    """Wait condition: the first element matching css is clickable, and is clicked."""

    def condition(driver):
        element = EC.element_to_be_clickable((By.CSS_SELECTOR, css))(driver)
        if element:
            element.click()
        return element

    return condition


def kernel_status(driver) -> str:
    """The status bar's kernel item, e.g. 'Python 3 (ipykernel) | Idle'."""
    return driver.execute_script(
        """
        const items = Array.from(document.querySelectorAll('#jp-main-statusbar *'))
            .map(e => e.textContent.trim())
            .filter(t => / \\| /.test(t) && t.length < 80);
        return items.length ? items[items.length - 1] : '';
        """
    )


def cell_state(driver, index: int) -> dict:
    """Prompt ('[3]:', '[*]:' or '[ ]:') and output text of the index-th code cell."""
    return driver.execute_script(
        """
        const cell = document.querySelectorAll(arguments[0])[arguments[1]];
        if (!cell) return null;
        const prompt = cell.querySelector('.jp-InputArea-prompt');
        const outputs = Array.from(cell.querySelectorAll('.jp-OutputArea-output'));
        return {
            prompt: prompt ? prompt.textContent.trim() : '',
            output: outputs.map(o => o.textContent).join('\\n'),
            source: cell.querySelector('.jp-InputArea-editor').textContent,
        };
        """,
        CODE_CELLS,
        index,
    )


def test_released_a1_runs_in_jupyterlab(browser, jupyterlab_a1):
    assert (jupyterlab_a1.root_dir / NOTEBOOK).is_file()
    browser.get(jupyterlab_a1.lab_url(NOTEBOOK))
    try:
        # The notebook is rendered twice (an empty model first), so find cells only once the
        # kernel is idle and the cells are there; a stale element is retried.
        load = WebDriverWait(
            browser, LOAD_TIMEOUT, poll_frequency=0.25, ignored_exceptions=[StaleError]
        )
        load.until(lambda d: KERNEL_IDLE.search(kernel_status(d)))
        load.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, CODE_CELLS)) >= 3)

        imports, definition, check = (cell_state(browser, i) for i in range(3))
        assert "from layerlab.gradcheck import" in imports["source"]
        assert "def rel_error(a, b):" in definition["source"]
        assert 'with checks("rel_error") as check:' in check["source"]
        assert check["output"] == "", "the released notebook should hold no outputs"

        # Edit the imports cell, then Shift+Enter: imports, (markdown), definition, check.
        load.until(click(f"{CODE_CELLS} .jp-InputArea-editor"))
        keys = ActionChains(browser)
        for _ in range(4):
            keys.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT)
        keys.perform()

        run = WebDriverWait(browser, RUN_TIMEOUT, poll_frequency=0.25)
        run.until(lambda d: "NotImplementedError" in cell_state(d, 2)["output"])
        run.until(lambda d: KERNEL_IDLE.search(kernel_status(d)))
        imports, definition, check = (cell_state(browser, i) for i in range(3))

        browser.execute_script(
            "document.querySelectorAll(arguments[0])[2].scrollIntoView({block: 'center'});",
            CODE_CELLS,
        )
    finally:
        screenshot(browser, "jupyterlab-a1")

    # The imports ran first, in this kernel, without an error. (Not "no output at all": on a
    # fresh machine matplotlib may log that it is building its font cache.)
    assert imports["prompt"] == "[1]:", imports
    assert "Error" not in imports["output"], imports["output"]
    assert "Traceback" not in imports["output"], imports["output"]
    assert definition["prompt"] == "[2]:", definition
    assert definition["output"] == "", definition["output"]
    # The visible check for rel_error shows the stub's NotImplementedError, raised inside
    # rel_error, called from the check's fourth line (inside `with checks("rel_error")`).
    assert check["prompt"] == "[3]:", check
    assert "Cell In[3], line 4" in check["output"]
    assert re.search(r"Cell In\[2\], line \d+, in rel_error\(a, b\)", check["output"])
    assert check["output"].rstrip().endswith("NotImplementedError:"), check["output"]
