"""Install this course folder and open JupyterLab. Needs only Python 3.11.

    python3.11 start.py                  install (first time only), then open JupyterLab
    python3.11 start.py --no-lab         only install
    python3.11 start.py --check NOTEBOOK install if needed, then check a notebook
                                         (options after it go to layerlab.check: --json ...)

The first run creates .venv next to this file and installs the pinned packages of
requirements.txt and layerlab from this folder with pip (internet needed). Later runs reuse
.venv and install again only when requirements.txt or layerlab/ changed. pip's usual
settings apply (PIP_INDEX_URL for a mirror, for example). Delete .venv to start over.
"""

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
STAMP = VENV / "layerlab-installed.txt"


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def fingerprint() -> str:
    """A hash of everything the installation is made from."""
    files = [HERE / "requirements.txt", HERE / "pyproject.toml", HERE / "build_backend.py"]
    files += sorted((HERE / "layerlab").rglob("*.py"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def step(command, what: str, hint: str) -> None:
    print(f"start.py: {what} ...", flush=True)
    if subprocess.call([str(c) for c in command], cwd=HERE) != 0:
        sys.exit(f"start.py: {what} failed (see the messages above). {hint}")


def install() -> Path:
    """Create .venv if needed and install into it; return its Python."""
    python = venv_python()
    if not python.exists():
        if sys.version_info[:2] != (3, 11):
            sys.exit(
                f"start.py: this course needs Python 3.11, but this is Python "
                f"{sys.version.split()[0]} ({sys.executable}). Install Python 3.11 and run "
                "`python3.11 start.py` (Windows: `py -3.11 start.py`)."
            )
        step(
            [sys.executable, "-m", "venv", VENV],
            "creating .venv",
            "On Debian or Ubuntu, install the venv module first: sudo apt install python3.11-venv",
        )
    if STAMP.exists() and STAMP.read_text() == fingerprint():
        return python
    step(
        [python, "-m", "pip", "install", "--disable-pip-version-check", "-r", "requirements.txt"]
        + ["."],
        "installing the course packages and layerlab",
        "Check the internet connection and run the same command again.",
    )
    STAMP.write_text(fingerprint())
    print("start.py: installed.", flush=True)
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-lab", action="store_true", help="install, do not open JupyterLab")
    parser.add_argument("--check", metavar="NOTEBOOK", help="check a notebook (layerlab.check)")
    args, more = parser.parse_known_args()
    if more and not args.check:
        parser.error(f"unknown arguments: {' '.join(more)}")
    python = install()
    if args.check:
        notebook = Path(args.check).resolve()
        return subprocess.call([str(python), "-m", "layerlab.check", str(notebook), *more])
    if args.no_lab:
        print(f"Open JupyterLab with: {python} -m jupyterlab")
        return 0
    lab = [str(python), "-m", "jupyterlab"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        lab.append("--allow-root")  # containers often run everything as root
    try:
        return subprocess.call(lab, cwd=HERE)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
