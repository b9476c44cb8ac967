"""The student bundle: ``python -m autograder student-bundle`` (``make student-bundle``).

One zip per assignment, ``dist/layerlab-student-a1_activations.zip`` and so on (``--assignment``
names some). There is no zip of the whole course: a student handed the course at the start of
term would hold the answers of the later assignments. Each zip unpacks into a single folder
holding exactly what a student needs for that assignment:

* ``<assignment>/``: its released notebook from ``assignments/`` (never ``solutions/``);
* ``layerlab/``: the package source the notebooks import (``.py`` files and ``py.typed``),
  where ``layerlab/given/<earlier>.py`` (solutions of an assignment, handed out as given code)
  comes only with the assignments after ``<earlier>``;
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
COURSE_STEM = "layerlab-student"  # the zip of assignment A is COURSE_STEM-A.zip
GIVEN = Path("layerlab") / "given"  # given/<assignment>.py ships after <assignment> only
# What layerlab's modules import, and the kernel layerlab.check starts: the package's own deps.
PACKAGE_NEEDS = ("numpy", "matplotlib", "scikit-learn", "tqdm", "nbformat", "nbclient", "ipykernel")
# What the released notebooks import beyond those, and the editor.
NOTEBOOK_NEEDS = ("scipy", "threadpoolctl", "jupyterlab")
SECRETS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "grade_cell", "autograder")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
TEMPLATES = Path(__file__).resolve().parent / "student_bundle"


def template(name: str) -> str:
    """A file of ``autograder/student_bundle/`` (``.in`` files have @PLACEHOLDERS@)."""
    return (TEMPLATES / name).read_text()


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
            "--assignment out to bundle each of them."
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


def package_files(root: Path, assignment: str) -> dict[str, bytes]:
    """``{path in the bundle: bytes}`` of the layerlab package for ``assignment``: sources and
    ``py.typed``, without the given code of ``assignment`` and of the assignments after it."""
    later = set(ASSIGNMENTS[ASSIGNMENTS.index(assignment) :])
    files = {}
    for path in sorted((root / "layerlab").rglob("*")):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or not path.is_file():
            continue
        if not (path.suffix == ".py" or path.name == "py.typed"):
            continue
        if rel.parent == GIVEN and path.stem != "__init__":
            if path.stem not in ASSIGNMENTS:
                raise UsageError(
                    f"{rel} is not named after an assignment ({', '.join(ASSIGNMENTS)}), so no "
                    "bundle can tell whether to hand it out: rename it."
                )
            if path.stem in later:
                continue
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
    listing = "\n".join(f"* `{n}`" for n in notebooks)
    readme = template("README.md.in").replace("@NOTEBOOKS@", listing).replace("@FIRST@", first)
    pyproject = (
        template("pyproject.toml.in")
        .replace("@VERSION@", layerlab_version(root))
        .replace("@DEPENDENCIES@", "".join(f"    {json.dumps(p)},\n" for p in package_pins))
    )
    pins = "".join(f"      - {json.dumps(r)}\n" for r in requirements)
    conda = template("environment.yml.in") + pins
    texts = {
        "README.md": readme,
        "start.py": template("start.py"),
        "build_backend.py": template("build_backend.py"),
        "pyproject.toml": pyproject,
        "requirements.txt": template("requirements-header.txt") + "\n".join(requirements) + "\n",
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


def build_bundle(assignment: str, out_dir: Path | None = None, root: Path = ROOT) -> Path:
    """Write the bundle of ``assignment`` to ``out_dir`` (default ``dist/``); return its path."""
    root = Path(root)
    check_assignment(assignment)
    out_dir = Path(out_dir) if out_dir is not None else root / "dist"
    stem = f"{COURSE_STEM}-{assignment}"
    files = released_files(assignment, root)
    files.update(package_files(root, assignment))
    files.update(generated_files([assignment], root))
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
        help="the assignments to bundle (default: every one, one zip each)",
    )
    p.add_argument("--out", type=Path, help="output folder (default: dist/ in the repository)")
    p.set_defaults(func=cmd_student_bundle)


def cmd_student_bundle(args) -> int:
    wanted = args.assignment or ["all"]
    if "all" in wanted:
        wanted = list(ASSIGNMENTS)
    for name in wanted:
        check_assignment(name)  # all names first: no half-done run
    for name in wanted:
        path = build_bundle(name, args.out)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
