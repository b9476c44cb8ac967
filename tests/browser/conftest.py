"""Real-browser tests: headless Debian Chromium driven by Selenium, and a throwaway JupyterLab.

Only the Debian packages are used (`make system-deps` installs `chromium` and
`chromium-driver`): Selenium is given both paths explicitly, so Selenium Manager never looks
for, or downloads, a browser or a driver.

Fixtures are session-scoped, which under pytest-xdist means once per worker process.

Helpers for other browser tests (import them with `from conftest import ...`):
- `screenshot(driver, name)` saves `artifacts/screenshots/<name>.png` at the repository root;
- `open_file_page(driver, path)` opens a local HTML file and waits until it has loaded;
- `page_has_loaded_images(driver)` / `broken_images(driver)` check every <img> rendered.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SKIP_ENV = "LAYERLAB_SKIP_BROWSER"

PAGE_LOAD_TIMEOUT = 30  # seconds, for file:// pages and the first JupyterLab load
SERVER_START_TIMEOUT = 60  # seconds for `jupyter lab` to answer on its port


def _require_browser() -> None:
    """Skip on explicit opt-out; otherwise a missing browser is a failure, not a skip."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"browser tests disabled by {SKIP_ENV}=1")
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: run `make system-deps` as root to install "
            f"Debian's chromium and chromium-driver (or set {SKIP_ENV}=1 to skip the browser "
            "tests).",
            pytrace=False,
        )


def chromium_options(user_data_dir: Path) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",  # we run as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",  # no outgoing connections on a closed network
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    return options


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process (per xdist worker), closed at the end."""
    _require_browser()
    profile = Path(tempfile.mkdtemp(prefix="layerlab-chromium-"))
    log = profile.parent / f"{profile.name}-chromedriver.log"
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log))
    try:
        driver = webdriver.Chrome(service=service, options=chromium_options(profile))
    except Exception as exc:
        details = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(f"could not start {CHROMIUM} through {CHROMEDRIVER}: {exc}\n{details}")
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        log.unlink(missing_ok=True)


def screenshot(driver, name: str) -> Path:
    """Save the current page as artifacts/screenshots/<name> (.png added if missing)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"Chromium could not save a screenshot to {path}")
    return path


def open_file_page(driver, path: str | os.PathLike, timeout: float = PAGE_LOAD_TIMEOUT):
    """Open a local HTML file (file:// URL) and wait until the page and its images loaded."""
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    return driver


def broken_images(driver) -> list[str]:
    """The src (truncated) of every <img> on the page that did not decode to a picture."""
    return driver.execute_script(
        """
        return Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0))
            .map(img => (img.currentSrc || img.src || '<no src>').slice(0, 120));
        """
    )


def page_has_loaded_images(driver) -> bool:
    """True when every <img> on the current page has loaded (naturalWidth > 0)."""
    return not broken_images(driver)


# --------------------------------------------------------------------------- JupyterLab


@dataclass
class JupyterLab:
    url: str  # http://127.0.0.1:<port>
    token: str
    root_dir: Path
    runtime_dir: Path  # connection files of its kernels
    log: Path

    def lab_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, token: str, method: str = "GET", timeout: float = 2.0) -> int:
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def _wait_until_answers(proc: subprocess.Popen, lab: JupyterLab) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}:\n{lab.log_tail()}")
        try:
            if _api(f"{lab.url}/api/status", lab.token) == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # polling a port, not the browser
    raise RuntimeError(
        f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s:\n{lab.log_tail()}"
    )


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains text (Linux /proc)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            pass
    return pids


def _stop(proc: subprocess.Popen, lab: JupyterLab) -> None:
    """Ask the server to shut down (it stops its kernels), then end its process group.

    Kernels run in sessions of their own, outside the server's process group; any kernel
    still alive afterwards (found by its connection file in this server's runtime dir) is
    killed too.
    """
    if proc.poll() is None:
        try:
            _api(f"{lab.url}/api/shutdown", lab.token, method="POST", timeout=5)
            proc.wait(timeout=15)
        except Exception:
            pass
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)  # also stragglers left in the group after proc exited
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    for pid in _pids_mentioning(str(lab.runtime_dir)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def jupyterlab_factory(tmp_path_factory):
    """start(folder) copies `folder` to a tmp dir and serves it with a fresh JupyterLab.

    Every server gets a free port, a random token and private config, settings, workspace
    and runtime directories; each one is shut down (its whole process group) at the end of
    the session.
    """
    started: list[tuple[subprocess.Popen, JupyterLab, object]] = []

    def start(folder: str | os.PathLike) -> JupyterLab:
        folder = Path(folder)
        base = tmp_path_factory.mktemp(f"jupyterlab-{folder.name}")
        root_dir = base / folder.name
        shutil.copytree(folder, root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        home = base / "jupyter"
        for sub in ("config", "runtime", "settings", "workspaces"):
            (home / sub).mkdir(parents=True)
        # No "get notified about Jupyter news?" toast over the notebook.
        notification = home / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        port, token = _free_port(), secrets.token_hex(24)
        lab = JupyterLab(
            f"http://127.0.0.1:{port}", token, root_dir, home / "runtime", base / "jupyterlab.log"
        )
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(lab.runtime_dir),
        )
        env.pop("JUPYTER_TOKEN", None)
        log_file = lab.log.open("wb")
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("jupyter")),
                "lab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--port-retries=0",
                f"--ServerApp.token={token}",
                f"--ServerApp.root_dir={root_dir}",
                f"--LabApp.user_settings_dir={home / 'settings'}",
                f"--LabApp.workspaces_dir={home / 'workspaces'}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
            ],
            cwd=root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
        started.append((proc, lab, log_file))
        _wait_until_answers(proc, lab)
        return lab

    try:
        yield start
    finally:
        for proc, lab, log_file in reversed(started):
            _stop(proc, lab)
            log_file.close()


@pytest.fixture(scope="session")
def jupyterlab_a1(jupyterlab_factory) -> JupyterLab:
    """JupyterLab serving a copy of the released assignments/a1_activations/ folder."""
    return jupyterlab_factory(ROOT / "assignments" / "a1_activations")
