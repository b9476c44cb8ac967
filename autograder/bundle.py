"""The student bundle: ``python -m autograder student-bundle`` (``make student-bundle``).

One zip for the course, ``dist/layerlab-student.zip``, or one per assignment with
``--assignment`` (``dist/layerlab-student-a1_activations.zip``). Each unpacks into a single
folder holding exactly what a student needs:

* ``<assignment>/``: the released notebooks from ``assignments/`` (never ``solutions/``);
* ``layerlab/``: the package source the notebooks import (``.py`` files and ``py.typed``);
* ``requirements.txt``: exact pins from ``requirements-lock.txt`` for the packages layerlab and
  the notebooks import, JupyterLab, and everything those depend on; ``environment.yml``: the
  same for conda;
* ``pyproject.toml`` and ``build_backend.py``: ``pip install .`` installs layerlab, built with
  the standard library only (no setuptools, nothing downloaded);
* ``start.py``: the one command (stdlib only) that creates ``.venv``, installs, opens JupyterLab;
* ``README.md`` for students.

Nothing of ``autograder/`` goes in. Entries are sorted and carry a fixed timestamp, so the
same sources give the same bytes. The released notebooks are refused if they still contain a
solution or hidden-test marker.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from autograder.judge import UsageError
from autograder.suites import ASSIGNMENTS, load_suite

ROOT = Path(__file__).resolve().parent.parent
COURSE_STEM = "layerlab-student"
# What layerlab's modules import, and the kernel layerlab.check starts: the package's own deps.
PACKAGE_NEEDS = ("numpy", "matplotlib", "scikit-learn", "tqdm", "nbformat", "nbclient", "ipykernel")
# What the released notebooks import beyond those, and the editor.
NOTEBOOK_NEEDS = ("scipy", "threadpoolctl", "jupyterlab")
SECRETS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "grade_cell", "autograder")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def read_lock(path: Path) -> dict[str, tuple[str, str]]:
    """``{canonical name: (name as written, version)}`` of a ``pip freeze`` style lock file."""
    from packaging.utils import canonicalize_name

    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[canonicalize_name(name)] = (name, version)
    return pins


def pinned_requirements(roots: Sequence[str], lock: dict[str, tuple[str, str]]) -> list[str]:
    """``name==version`` lines for ``roots`` and everything they depend on, with the lock's
    versions. The dependency edges come from the installed packages' metadata (the course
    environment, which the lock describes) evaluated for this platform; a package needed only
    under a platform condition keeps that condition, so pip skips it where it does not apply.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    requires: dict[str, list[Requirement]] = {}

    def installed_requirements(name: str, key: str) -> list[Requirement]:
        if key not in lock:
            raise UsageError(
                f"{name} is needed by the student environment but not pinned in "
                "requirements-lock.txt: install it in the course environment and run `make lock`."
            )
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise UsageError(
                f"{name} is not installed in this Python: build the bundle in the course "
                "environment (`make student-bundle`)."
            ) from None
        if dist.version != lock[key][1]:
            raise UsageError(
                f"{name} {dist.version} is installed but requirements-lock.txt pins "
                f"{lock[key][1]}: run `make` (or pip install -c requirements-lock.txt) first."
            )
        return [Requirement(text) for text in dist.requires or []]

    conditions: dict[str, set[str | None]] = {canonicalize_name(r): {None} for r in roots}
    todo = [(r, frozenset()) for r in roots]
    done = set()
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if (key, extras) in done:
            continue
        done.add((key, extras))
        if key not in requires:
            requires[key] = installed_requirements(name, key)
        for req in requires[key]:
            marker = req.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                continue
            condition = None if marker is None or "extra" in str(marker) else str(marker)
            conditions.setdefault(canonicalize_name(req.name), set()).add(condition)
            todo.append((req.name, frozenset(req.extras)))
    lines = []
    for key in sorted(conditions):
        name, version = lock[key]
        found = conditions[key]
        when = "" if None in found else "; " + " or ".join(f"({c})" for c in sorted(found))
        lines.append(f"{name}=={version}{when}")
    return lines


def check_assignment(assignment: str) -> None:
    if assignment not in ASSIGNMENTS:
        raise UsageError(
            f"unknown assignment {assignment!r}: choose one of {', '.join(ASSIGNMENTS)}, or leave "
            "--assignment out to bundle the whole course."
        )


def released_files(assignment: str, root: Path) -> dict[str, bytes]:
    """``{path in the bundle: bytes}`` of one assignment's released folder."""
    check_assignment(assignment)
    folder = root / "assignments" / assignment
    notebook = folder / f"{load_suite(assignment).notebook}.ipynb"
    if not notebook.is_file():
        raise UsageError(
            f"{notebook.relative_to(root)} is missing: release the assignment first "
            f"(`make release` or `python -m autograder release {assignment}`), then build again."
        )
    files = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if not path.is_file() or any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        for secret in SECRETS:
            if secret in text:
                raise UsageError(
                    f"{path.relative_to(root)} contains {secret!r}, so it is not a student "
                    "release: regenerate assignments/ with `make release` and build again."
                )
        files[f"{assignment}/{'/'.join(parts)}"] = data
    return files


def package_files(root: Path) -> dict[str, bytes]:
    """``{path in the bundle: bytes}`` of the layerlab package: sources and ``py.typed``."""
    files = {}
    for path in sorted((root / "layerlab").rglob("*")):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or not path.is_file():
            continue
        if path.suffix == ".py" or path.name == "py.typed":
            files[rel.as_posix()] = path.read_bytes()
    return files


def layerlab_version(root: Path) -> str:
    for line in (root / "layerlab" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise UsageError("layerlab/__init__.py defines no __version__; add one and build again.")


def generated_files(assignments: Sequence[str], root: Path) -> dict[str, bytes]:
    """README, start.py, the environment files and the packaging of layerlab."""
    if not (root / "requirements-lock.txt").is_file():
        raise UsageError(f"{root} has no requirements-lock.txt: run `make lock` there first.")
    lock = read_lock(root / "requirements-lock.txt")
    requirements = pinned_requirements(PACKAGE_NEEDS + NOTEBOOK_NEEDS, lock)
    package_pins = [f"{lock[n][0]}=={lock[n][1]}" for n in sorted(PACKAGE_NEEDS)]
    notebooks = [f"{a}/{load_suite(a).notebook}.ipynb" for a in assignments]
    first = notebooks[0]
    readme = README.replace("@NOTEBOOKS@", "\n".join(f"* `{n}`" for n in notebooks))
    readme = readme.replace("@FIRST@", first)
    pyproject = PYPROJECT.replace("@VERSION@", layerlab_version(root)).replace(
        "@DEPENDENCIES@", "".join(f"    {json.dumps(p)},\n" for p in package_pins)
    )
    conda = ENVIRONMENT_YML + "".join(f"      - {json.dumps(r)}\n" for r in requirements)
    texts = {
        "README.md": readme,
        "start.py": START_PY,
        "build_backend.py": BUILD_BACKEND_PY,
        "pyproject.toml": pyproject,
        "requirements.txt": REQUIREMENTS_HEADER + "\n".join(requirements) + "\n",
        "environment.yml": conda + "      - .\n",
    }
    return {name: text.encode() for name, text in texts.items()}


def write_zip(path: Path, stem: str, files: dict[str, bytes]) -> None:
    """A deterministic zip: entries sorted under ``stem/``, fixed time and permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{stem}/{name}", date_time=FIXED_TIME)
                info.create_system = 3  # unix, so the permissions below are honoured
                mode = 0o755 if name == "start.py" else 0o644
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, files[name], compresslevel=9)
        os.chmod(tmp, 0o644)  # mkstemp made it private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def build_bundle(
    out_dir: Path | None = None, assignment: str | None = None, root: Path = ROOT
) -> Path:
    """Write the course bundle (``assignment=None``) or one assignment's; return its path."""
    root = Path(root)
    out_dir = Path(out_dir) if out_dir is not None else root / "dist"
    names = list(ASSIGNMENTS) if assignment is None else [assignment]
    stem = COURSE_STEM if assignment is None else f"{COURSE_STEM}-{assignment}"
    files: dict[str, bytes] = {}
    for name in names:
        files.update(released_files(name, root))
    files.update(package_files(root))
    files.update(generated_files(names, root))
    path = out_dir / f"{stem}.zip"
    write_zip(path, stem, files)
    return path


def register(sub) -> None:
    """Add ``student-bundle`` to the CLI's argparse sub-parsers."""
    p = sub.add_parser("student-bundle", help="write the zip students download (dist/)")
    p.add_argument(
        "--assignment",
        nargs="+",
        metavar="NAME",
        help="write one zip per named assignment instead of the course zip ('all': every one)",
    )
    p.add_argument("--out", type=Path, help="output folder (default: dist/ in the repository)")
    p.set_defaults(func=cmd_student_bundle)


def cmd_student_bundle(args) -> int:
    wanted = args.assignment or [None]
    if "all" in wanted:
        wanted = list(ASSIGNMENTS)
    for name in wanted:
        if name is not None:
            check_assignment(name)  # all names first: no half-done run
    for name in wanted:
        path = build_bundle(args.out, name)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


# ----------------------------------------------------------------------- the generated files

REQUIREMENTS_HEADER = """\
# The exact versions the course was tested with (taken from its requirements-lock.txt):
# what layerlab and the notebooks import, JupyterLab, and everything those depend on.
# start.py installs them; by hand: python -m pip install -r requirements.txt .
"""

ENVIRONMENT_YML = """\
# Conda instead of start.py, from this folder:
#   conda env create -f environment.yml && conda activate layerlab-student && jupyter lab
# The same pins as requirements.txt; the last line installs layerlab from this folder.
name: layerlab-student
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""

PYPROJECT = """\
# Lets pip install layerlab from this folder: python -m pip install .
# build_backend.py builds it with the standard library only (no download needed).
[build-system]
requires = []
build-backend = "build_backend"
backend-path = ["."]

[project]
name = "layerlab"
version = "@VERSION@"
description = "Gradient checking, data, training and plots for the course notebooks."
requires-python = ">=3.11,<3.12"
dependencies = [
@DEPENDENCIES@]
"""

README = """\
# Deep learning from scratch: your course folder

This folder holds your assignments, the small `layerlab` package the notebooks import, and
what is needed to install everything. You need Python 3.11 (python.org) and an internet
connection for the first start.

## Start

From this folder, run:

    python3.11 start.py

(On Windows, type `py -3.11` wherever this README says `python3.11`.) The first time, this
creates a private environment in `.venv` here, installs the exact package versions listed in
`requirements.txt` plus `layerlab` (a few minutes), and then opens JupyterLab in your
browser. Run the same command every time you want to work: it reuses `.venv` and opens
JupyterLab at once. Stop JupyterLab with Ctrl+C in the terminal. `python3.11 start.py
--no-lab` installs without opening JupyterLab. If the installation breaks, delete the `.venv`
folder and run `start.py` again.

With conda instead: `conda env create -f environment.yml`, `conda activate layerlab-student`,
then `jupyter lab`.

## Work on an assignment

@NOTEBOOKS@

Work through a notebook from top to bottom. Write your code where it says `# YOUR CODE HERE`
and delete the `raise NotImplementedError()` line below it. The cell after each function is a
check: run it and read what it prints (`compare` and `check_layer` say `ok` or explain the
difference: which entry, by how much, and often why). Written answers go in the cells that say
`YOUR ANSWER HERE`. Do not add, delete or reorder the given cells.

## Check your work

    python3.11 start.py --check @FIRST@

(the same as `.venv/bin/python -m layerlab.check @FIRST@`, or
`.venv\\Scripts\\python -m layerlab.check ...` on Windows). It runs a copy of your notebook from
top to bottom in a fresh kernel, as Restart & Run All would, without changing your file. It
then lists every check cell: `ok` when it ran without an error and every comparison it
printed was ok, `failed` when a comparison found a difference, `error` when it raised, with
the message and the function it came from, for example "relu_forward is not implemented yet".
It also lists the functions you still have to write. Add `--json` for the same report as
JSON, `--timeout 300` to let a slow cell run longer than the default 120 seconds.

This is not your grade. Your grade comes from hidden tests that are not in this folder: they
call your functions with many more inputs and edge cases. A check that runs cleanly can still
lose points, so also read what each check prints.

## Before you hand in

Restart the kernel and run all cells (Kernel > Restart Kernel and Run All Cells): every check
must run without an error. Then hand in the `.ipynb` file itself, the way your course asks.
"""

START_PY = '''\
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
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\\0" + path.read_bytes())
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
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
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
'''

BUILD_BACKEND_PY = '''\
"""How pip builds layerlab from this folder (`python -m pip install .`). You never run it.

A minimal build backend (PEP 517) using only the standard library: the wheel holds layerlab/
and the metadata from pyproject.toml, so installing needs neither setuptools nor a download.
"""

import base64
import hashlib
import io
import tarfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = """\\
Wheel-Version: 1.0
Generator: build_backend.py
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _project() -> dict:
    return tomllib.loads((HERE / "pyproject.toml").read_text())["project"]


def _metadata() -> str:
    p = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p['description']}",
        f"Requires-Python: {p['requires-python']}",
    ]
    lines += [f"Requires-Dist: {d}" for d in p.get("dependencies", [])]
    return "\\n".join(lines) + "\\n"


def _dist_info() -> str:
    p = _project()
    return f"{p['name']}-{p['version']}.dist-info"


def _package_files():
    for path in sorted((HERE / "layerlab").rglob("*")):
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed"):
            if "__pycache__" not in path.parts:
                yield path.relative_to(HERE).as_posix(), path.read_bytes()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    target = Path(metadata_directory) / _dist_info()
    target.mkdir(parents=True, exist_ok=True)
    (target / "METADATA").write_text(_metadata())
    (target / "WHEEL").write_text(WHEEL)
    return target.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    p = _project()
    info = _dist_info()
    entries = list(_package_files())
    entries += [(f"{info}/METADATA", _metadata().encode()), (f"{info}/WHEEL", WHEEL.encode())]
    record = []
    for name, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\\n".join(record) + "\\n").encode()))
    filename = f"{p['name']}-{p['version']}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = f"{p['name']}-{p['version']}"
    files = [(n, d) for n, d in _package_files()]
    files += [(n, (HERE / n).read_bytes()) for n in ("pyproject.toml", "build_backend.py")]
    files.append(("PKG-INFO", _metadata().encode()))
    with tarfile.open(Path(sdist_directory) / f"{base}.tar.gz", "w:gz") as tar:
        for name, data in files:
            member = tarfile.TarInfo(f"{base}/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return f"{base}.tar.gz"
'''
