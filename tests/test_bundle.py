"""The student bundle holds what students need and nothing of the solutions or the grader."""

import ast
import io
import json
import re
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
}


def read_zip(path: Path) -> dict[str, bytes]:
    """``{path inside the bundle folder: bytes}``; every entry must be under one folder."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert {n.split("/", 1)[0] for n in names} == {path.stem}, names[:5]
        return {n.split("/", 1)[1]: zf.read(n) for n in names}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """``{assignment: files of its bundle}``, every bundle ``make student-bundle`` writes."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "student-bundle", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    zips = sorted(out.iterdir())
    assert [p.name for p in zips] == [f"{COURSE_STEM}-{a}.zip" for a in sorted(ASSIGNMENTS)]
    return {a: read_zip(out / f"{COURSE_STEM}-{a}.zip") for a in ASSIGNMENTS}


# The leak rule. A solution line is a line between BEGIN SOLUTION and END SOLUTION in an
# instructor notebook, with its indentation stripped and runs of spaces made one. The bundle of
# assignment k must not contain, as a whole line of any file (a notebook counts as the sources
# of its cells), a solution line of assignment k or of a later one, except:
# - trivial lines, which carry no answer: blank lines, comments, and lines made only of names,
#   dots, commas, colons and brackets (`pass`, `return out`, `else:`, `x = x.copy()` has an `=`
#   and is not trivial);
# - lines that also appear in a solution of an assignment before k (handed out as given code);
# - lines that also appear outside the solution regions and hidden tests of the notebooks of
#   assignments 1..k (scaffolding students read anyway, such as `N, D = X.shape`);
# - the idioms in IDIOMS, lines of numpy's own documentation that layerlab uses too.
IDIOMS = {"rng = np.random.default_rng(seed)"}
TRIVIAL = re.compile(r"[\w\s,:()\[\]{}.]*")


def normalized_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def is_trivial(line: str) -> bool:
    return not line or line.startswith("#") or TRIVIAL.fullmatch(line) is not None


def split_lines(assignment: str) -> tuple[set[str], set[str]]:
    """``(solution lines, scaffolding lines)`` of the instructor notebook of ``assignment``,
    normalized and non-trivial; hidden tests are in neither."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    solution, scaffold = set(), set()
    for cell in nb.cells:
        region = None
        for line in normalized_lines(cell.source):
            for marker, now in (("BEGIN SOLUTION", "sol"), ("BEGIN HIDDEN TESTS", "hidden")):
                if marker in line:
                    region = now
            if "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                region = None
            elif "BEGIN" not in line and not is_trivial(line.split(" #", 1)[0]):
                if region == "sol":
                    solution.add(line)
                elif region is None:
                    scaffold.add(line)
    return solution, scaffold


def solution_lines(assignment: str) -> set[str]:
    return split_lines(assignment)[0]


def forbidden_lines(assignment: str) -> dict[str, set[str]]:
    """``{later or same assignment: its solution lines the bundle of assignment must not hold}``."""
    k = ASSIGNMENTS.index(assignment)
    given = set().union(*(split_lines(a)[0] for a in ASSIGNMENTS[:k]))
    given |= set().union(*(split_lines(a)[1] for a in ASSIGNMENTS[: k + 1])) | IDIOMS
    return {a: solution_lines(a) - given for a in ASSIGNMENTS[k:]}


def bundle_lines(files: dict[str, bytes]) -> dict[str, str]:
    """``{normalized line: the first file holding it}`` over everything a student can read."""
    found: dict[str, str] = {}
    for name, data in sorted(files.items()):
        text = data.decode()
        if name.endswith(".ipynb"):
            text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        for line in normalized_lines(text):
            found.setdefault(line, name)
    return found


def leaks(files: dict[str, bytes], assignment: str) -> list[str]:
    lines = bundle_lines(files)
    return [
        f"{lines[line]} holds a line of {owner}'s solution: {line}"
        for owner, solution in forbidden_lines(assignment).items()
        for line in sorted(solution)
        if line in lines
    ]


def test_solution_line_extraction_finds_every_assignment():
    for assignment in ASSIGNMENTS:
        assert len(solution_lines(assignment)) >= 40, assignment


def test_bundle_holds_the_released_notebook_layerlab_and_the_setup(bundles):
    for k, assignment in enumerate(ASSIGNMENTS):
        files = bundles[assignment]
        assert {name.split("/", 1)[0] for name in files} == TOP_LEVEL | {assignment}
        notebook = f"{assignment}/{load_suite(assignment).notebook}.ipynb"
        assert files[notebook] == (ROOT / "assignments" / notebook).read_bytes()
        assert [n for n in files if n.startswith(f"{assignment}/")] == [notebook]
        package = {
            p.relative_to(ROOT).as_posix(): p.read_bytes()
            for p in (ROOT / "layerlab").rglob("*")
            if (p.suffix == ".py" or p.name == "py.typed") and "__pycache__" not in p.parts
        }
        handed_out = {f"layerlab/given/{a}.py" for a in ASSIGNMENTS[:k]}
        withheld = {n for n in package if n.startswith("layerlab/given/a")} - handed_out
        assert {"layerlab/gradcheck.py", "layerlab/check.py", "layerlab/given/__init__.py"} <= set(
            package
        )
        shipped = {n: d for n, d in files.items() if n.startswith("layerlab/")}
        assert shipped == {n: d for n, d in package.items() if n not in withheld}, assignment


def test_bundle_holds_no_marker_no_hidden_test_and_nothing_of_the_grader(bundles):
    for files in bundles.values():
        for name, data in files.items():
            assert "__pycache__" not in name and not name.endswith(".pyc"), name
            assert not name.startswith("autograder") and "/autograder" not in name, name
            text = data.decode()
            for secret in SECRETS:
                assert secret not in text, f"{secret!r} in {name}"


# The a4 release's "given code" cell holds a3's solution: allowed by the rule (a3 comes
# before a4), and flagged to the a4 notebook's owner. Anything else found here is a leak.
def test_no_bundle_holds_a_line_of_its_own_or_a_later_solution(bundles):
    found = {a: leaks(files, a) for a, files in bundles.items()}
    assert found == {a: [] for a in ASSIGNMENTS}, "\n".join(sum(found.values(), []))


def test_leak_check_finds_a1_tools_and_the_two_layer_net_where_they_used_to_be(bundles):
    """The check fails on what the bundles held before: a1's tools in layerlab.gradcheck, the
    a1 solution notebook, a4's release in the a3 bundle."""
    files = dict(bundles["a1_activations"])
    files["layerlab/gradcheck.py"] += (ROOT / "layerlab/given/a1_activations.py").read_bytes()
    assert any(
        "a1_activations's solution: a = np.asarray(a, dtype=np.float64)" in x
        for x in leaks(files, "a1_activations")
    )
    solution = ROOT / "solutions" / "a1_activations" / "a1_activations.ipynb"
    files["a1_activations/a1_activations.ipynb"] = solution.read_bytes()
    assert len(leaks(files, "a1_activations")) >= len(solution_lines("a1_activations")) * 0.9
    a3 = dict(
        bundles["a3_backprop"],
        **{"a4.ipynb": bundles["a4_normalization"]["a4_normalization/a4_normalization.ipynb"]},
    )
    assert any("a3_backprop's solution" in x for x in leaks(a3, "a3_backprop"))


IMPORT_PROBE = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import layerlab
assert layerlab.__file__.startswith(sys.argv[1]), layerlab.__file__
names = set(json.loads(sys.argv[2]))
found = []
for info in pkgutil.walk_packages(layerlab.__path__, "layerlab."):
    module = importlib.import_module(info.name)
    found += [f"{info.name}.{n}" for n in sorted(names) if hasattr(module, n)]
found += [f"layerlab.{n}" for n in sorted(names) if hasattr(layerlab, n)]
print(json.dumps(found))
"""


def importable(folder: Path, names: set[str]) -> list[str]:
    """``module.name`` for each of ``names`` reachable as an attribute of a layerlab module
    (a module ``__getattr__`` included) when the bundle in ``folder`` is on ``sys.path``."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_PROBE, str(folder), json.dumps(sorted(names))],
        capture_output=True, text=True, timeout=120, env={"MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_no_graded_function_of_its_own_or_a_later_assignment_is_importable(bundles, tmp_path):
    for k, assignment in enumerate(ASSIGNMENTS):
        folder = tmp_path / assignment
        for name, data in bundles[assignment].items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        graded = set().union(*(load_suite(a).functions for a in ASSIGNMENTS[k:]))
        assert importable(folder, graded) == [], assignment
        if k == 1:  # the probe sees what is there: a1's tools come with a2
            earlier = set(load_suite("a1_activations").functions) - graded
            assert "layerlab.gradcheck.rel_error" in importable(folder, earlier)


def requirement_lines(text: str) -> dict[str, str]:
    """``{name: version}`` of ``name==version[; marker]`` lines; nothing else may appear."""
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            spec = line.split(";", 1)[0].strip()
            name, version = spec.split("==")
            pins[name] = version
    return pins


@pytest.fixture(scope="module")
def bundle(bundles) -> dict[str, bytes]:
    """The last assignment's bundle: every layerlab module, given code included."""
    return bundles[ASSIGNMENTS[-1]]


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


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_import_of_layerlab_and_the_notebooks_is_installed(bundles, assignment):
    """Each third-party module imported by the bundle's code comes with requirements.txt."""
    bundle = bundles[assignment]
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
    assert {"numpy", "matplotlib", "sklearn", "nbclient"} <= third_party
    providers = metadata.packages_distributions()
    for module in sorted(third_party):
        dists = {d.lower() for d in providers.get(module, [])}
        assert dists & pins, f"{module} is imported but none of {dists} is in requirements.txt"


def test_two_builds_are_byte_identical(tmp_path):
    first = build_bundle("a3_backprop", tmp_path / "one")
    second = build_bundle("a3_backprop", tmp_path / "two")
    assert first.name == second.name == f"{COURSE_STEM}-a3_backprop.zip"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_one_assignment_bundle_holds_only_that_notebook(bundles):
    files = bundles["a2_losses"]
    tops = {name.split("/", 1)[0] for name in files}
    assert tops == TOP_LEVEL | {"a2_losses"}
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
        build_bundle("a3_backprop", tmp_path / "dist", root=root)
    build_bundle("a1_activations", tmp_path / "dist", root=root)  # the others still build

    solution = ROOT / "solutions" / "a1_activations" / "a1_activations.ipynb"
    shutil.copy(solution, root / "assignments" / "a1_activations")
    with pytest.raises(UsageError, match="not a student release: regenerate"):
        build_bundle("a1_activations", tmp_path / "dist", root=root)
    with pytest.raises(UsageError, match="unknown assignment 'a9'"):
        build_bundle("a9", tmp_path / "dist", root=root)
    (root / "layerlab" / "given" / "answers.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match=r"given/answers\.py is not named after an assignment"):
        build_bundle("a2_losses", tmp_path / "dist", root=root)
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

    every = run_cli("--out", str(tmp_path / "all"))
    assert every.returncode == 0, every.stderr
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        f"{COURSE_STEM}-{a}.zip" for a in sorted(ASSIGNMENTS)
    ]

    bad = run_cli("--out", str(tmp_path), "--assignment", "a5_attention")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown assignment 'a5_attention': choose one of")
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
