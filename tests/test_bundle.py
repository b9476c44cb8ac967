"""The student bundle holds what students need and nothing of the solutions or the grader."""

import ast
import io
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import yaml

import layerlab
from autograder.bundle import COURSE_STEM, build_bundle, read_lock
from autograder.judge import UsageError
from autograder.suites import ASSIGNMENTS, load_suite

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "grade_cell", "autograder")
TOP_LEVEL = {
    "README.md",
    "start.py",
    "build_backend.py",
    "pyproject.toml",
    "requirements.txt",
    "environment.yml",
    "layerlab",
    *ASSIGNMENTS,
}


def read_zip(path: Path) -> dict[str, bytes]:
    """``{path inside the bundle folder: bytes}``; every entry must be under one folder."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert {n.split("/", 1)[0] for n in names} == {path.stem}, names[:5]
        return {n.split("/", 1)[1]: zf.read(n) for n in names}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict[str, bytes]:
    return read_zip(build_bundle(tmp_path_factory.mktemp("dist")))


def normalized(text: str) -> str:
    """Lines stripped of indentation, blank lines dropped: code compared whatever its layout."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def solution_regions(assignment: str) -> list[str]:
    """The code between BEGIN/END SOLUTION in every cell of the instructor's notebook."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    regions = []
    for cell in nb.cells:
        inside, lines = False, []
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside, lines = True, []
            elif "END SOLUTION" in line:
                inside = False
                if normalized("\n".join(lines)):
                    regions.append(normalized("\n".join(lines)))
            elif inside:
                lines.append(line)
    return regions


def bundle_text(files: dict[str, bytes]) -> str:
    """Everything a student can read in the bundle, notebooks as their cells' sources."""
    parts = []
    for name, data in files.items():
        if name.endswith(".ipynb"):
            nb = nbformat.reads(data.decode(), as_version=4)
            parts += [normalized(cell.source) for cell in nb.cells]
        else:
            parts.append(normalized(data.decode()))
    return "\n".join(parts)


def test_bundle_holds_exactly_the_released_notebooks_layerlab_and_the_setup(bundle):
    assert {name.split("/", 1)[0] for name in bundle} == TOP_LEVEL
    for assignment in ASSIGNMENTS:
        notebook = f"{assignment}/{load_suite(assignment).notebook}.ipynb"
        assert bundle[notebook] == (ROOT / "assignments" / notebook).read_bytes(), notebook
        assert [n for n in bundle if n.startswith(f"{assignment}/")] == [notebook]
    package = {
        p.relative_to(ROOT).as_posix(): p.read_bytes()
        for p in (ROOT / "layerlab").iterdir()
        if p.suffix == ".py" or p.name == "py.typed"
    }
    assert {"layerlab/gradcheck.py", "layerlab/data.py", "layerlab/check.py"} <= set(package)
    assert {n: d for n, d in bundle.items() if n.startswith("layerlab/")} == package


def test_bundle_holds_no_solution_no_hidden_test_and_nothing_of_the_grader(bundle):
    for name, data in bundle.items():
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
        assert not name.startswith("autograder") and "/autograder" not in name, name
        text = data.decode()
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in {name}"
    text = bundle_text(bundle)
    for assignment in ASSIGNMENTS:
        regions = solution_regions(assignment)
        assert len(regions) >= 10, assignment  # the extraction found the solutions
        leaked = [r for r in regions if r in text]
        assert not leaked, f"solution code of {assignment} in the bundle: {leaked[:3]}"


def test_solution_check_would_catch_a_leak(bundle):
    """The region comparison above sees solution code when it is there."""
    solution = ROOT / "solutions" / "a1_activations" / "a1_activations.ipynb"
    leaky = dict(bundle, **{"a1_activations/a1_activations.ipynb": solution.read_bytes()})
    regions = solution_regions("a1_activations")
    assert all(r in bundle_text(leaky) for r in regions)


def requirement_lines(text: str) -> dict[str, str]:
    """``{name: version}`` of ``name==version[; marker]`` lines; nothing else may appear."""
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            spec = line.split(";", 1)[0].strip()
            name, version = spec.split("==")
            pins[name] = version
    return pins


def test_requirements_pin_exactly_the_lock_versions(bundle):
    lock = read_lock(ROOT / "requirements-lock.txt")
    pins = requirement_lines(bundle["requirements.txt"].decode())
    assert pins == {name: lock[key][1] for key, (name, _) in lock.items() if name in pins}
    needed = {"numpy", "scipy", "matplotlib", "scikit-learn", "jupyterlab", "ipykernel", "tqdm"}
    assert needed <= set(pins)
    assert not {"nbgrader", "pytest", "ruff", "hypothesis"} & set(pins)  # course-staff tools

    conda = yaml.safe_load(bundle["environment.yml"])
    assert "python=3.11" in conda["dependencies"]
    pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    assert pip_section[-1] == "."
    assert pip_section[:-1] == [
        line for line in bundle["requirements.txt"].decode().splitlines() if "==" in line
    ]

    project = tomllib.loads(bundle["pyproject.toml"].decode())["project"]
    assert project["version"] == layerlab.__version__
    assert set(project["dependencies"]) <= {f"{n}=={v}" for n, v in pins.items()}


def test_every_import_of_layerlab_and_the_notebooks_is_installed(bundle):
    """Each third-party module imported by the bundle's code comes with requirements.txt."""
    pins = {n.lower() for n in requirement_lines(bundle["requirements.txt"].decode())}
    sources = []
    for name, data in bundle.items():
        if name.endswith(".py") and name.startswith("layerlab/"):
            sources.append((name, data.decode()))
        elif name.endswith(".ipynb"):
            nb = nbformat.reads(data.decode(), as_version=4)
            for cell in nb.cells:  # IPython magics (%matplotlib) are not Python
                if cell.cell_type == "code":
                    lines = cell.source.splitlines()
                    sources.append((name, "\n".join(x for x in lines if x[:1] not in "%!")))
    modules = set()
    for name, source in sources:
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"layerlab"}
    assert {"numpy", "scipy", "matplotlib", "sklearn", "nbclient"} <= third_party
    providers = metadata.packages_distributions()
    for module in sorted(third_party):
        dists = {d.lower() for d in providers.get(module, [])}
        assert dists & pins, f"{module} is imported but none of {dists} is in requirements.txt"


def test_two_builds_are_byte_identical(tmp_path):
    first = build_bundle(tmp_path / "one")
    second = build_bundle(tmp_path / "two")
    assert first.name == second.name == f"{COURSE_STEM}.zip"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_one_assignment_bundle_holds_only_that_notebook(tmp_path):
    files = read_zip(build_bundle(tmp_path, "a2_losses"))
    tops = {name.split("/", 1)[0] for name in files}
    assert tops == TOP_LEVEL - set(ASSIGNMENTS) | {"a2_losses"}
    assert "a2_losses/a2_losses.ipynb" in files["README.md"].decode()
    assert "a1_activations" not in files["README.md"].decode()


def fake_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder in ("assignments", "layerlab"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements-lock.txt", root)
    return root


def test_missing_or_unreleased_notebook_is_refused_with_what_to_do(tmp_path):
    root = fake_course(tmp_path)
    (root / "assignments" / "a3_backprop" / "a3_backprop.ipynb").unlink()
    with pytest.raises(UsageError, match=r"a3_backprop\.ipynb is missing: release"):
        build_bundle(tmp_path / "dist", root=root)
    build_bundle(tmp_path / "dist", "a1_activations", root=root)  # the others still build

    solution = ROOT / "solutions" / "a1_activations" / "a1_activations.ipynb"
    shutil.copy(solution, root / "assignments" / "a1_activations")
    with pytest.raises(UsageError, match="not a student release: regenerate"):
        build_bundle(tmp_path / "dist", "a1_activations", root=root)
    with pytest.raises(UsageError, match="unknown assignment 'a9'"):
        build_bundle(tmp_path / "dist", "a9", root=root)
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        f"{COURSE_STEM}-a1_activations.zip"  # no partial archive left behind
    ]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "student-bundle", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_writes_the_bundles_and_turns_bad_input_into_one_sentence(tmp_path):
    done = run_cli("--out", str(tmp_path), "--assignment", "a1_activations", "a4_normalization")
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"{COURSE_STEM}-a1_activations.zip", f"{COURSE_STEM}-a4_normalization.zip"]
    assert f"wrote {tmp_path / written[0]}" in done.stdout
    files = read_zip(tmp_path / written[0])
    assert json.loads(files["a1_activations/a1_activations.ipynb"])["cells"]
    assert zipfile.ZipFile(io.BytesIO((tmp_path / written[1]).read_bytes())).testzip() is None

    bad = run_cli("--out", str(tmp_path), "--assignment", "a5_attention")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown assignment 'a5_attention': choose one of")
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
