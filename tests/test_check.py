"""``python -m layerlab.check``, and the student path: bundle, start.py, check, offline."""

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.bundle import COURSE_STEM, build_bundle
from layerlab.check import describe_failure, fail_lines, main, render, run_checks, stub_functions

ROOT = Path(__file__).resolve().parent.parent
# The interpreter the course's .venv was made from: a plain Python 3.11 with pip.
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))


STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
TRIPLE_CHECK = """\
x = np.array([1.0, 2.0, 5.0])
with checks("triple") as check:
    check.equal("shape", triple(x).shape, (3,))
    check.close("out", triple(x), 3 * x, bugs=[Bug(2 * x + 1, "triple adds 1 where it adds x.")])
"""
UNTOUCHED = """\
import layerlab.gradcheck as gradcheck
assert In[1].startswith("import numpy")  # nothing ran before the notebook's first cell
assert not hasattr(gradcheck.compare, "__wrapped__")
assert not hasattr(gradcheck.check_layer, "__wrapped__")
print(double(21))
"""
CRAFTED = [  # (kind, grade_id, source): one visible check per situation the report tells apart
    ("markdown", None, "# A crafted notebook"),  # JupyterLab counts it: cell N is not code cell N
    ("code", None, "import numpy as np\nfrom layerlab.gradcheck import check_layer, compare\n"
                   "from layerlab.verdicts import Bug, checks"),
    ("solution", "sol_double", "def double(x):\n    return 2 * x"),
    ("solution", "sol_half", f"def half(x):\n{STUB}"),
    ("solution", "sol_ratio", "def ratio(a, b):\n    return a / b"),
    ("solution", "sol_triple", "def triple(x):\n    return 2 * x + 1  # a bug"),
    ("solution", "sol_square", f"def square_forward(x):\n    return x**2, x\n\n\n"
                               f"def square_backward(dout, cache):\n{STUB}"),
    ("check", "check_double", "with checks('double') as check:\n"
                              "    check.close('out', double(np.ones(3)), 2 * np.ones(3))"),
    ("check", "check_half", "with checks('half') as check:\n"
                            "    check.close('out', half(np.ones(3)), 0.5 * np.ones(3))"),
    ("check", "check_ratio", "ratio(1.0, 0)"),
    ("check", "check_triple", TRIPLE_CHECK),
    ("check", "check_square", "with checks('square') as check:\n"
                              "    x = np.ones(3) + 0.5\n"
                              "    check(check_layer(square_forward, square_backward, x))"),
    ("check", "check_printed", "print(compare('triple', triple(np.ones(3)), 3 * np.ones(3)))"),
    ("check", "check_loop", "while True:\n    pass"),
    ("check", "check_after", UNTOUCHED),
    ("code", None, "undefined_name + 1"),
    ("code", None, "with checks('double') as check:\n"
                   "    check.true('size', double(1) > 5, 'double(1) is not above 5.')"),
]  # fmt: skip


def crafted_notebook() -> nbformat.NotebookNode:
    cells = []
    for kind, grade_id, source in CRAFTED:
        if kind == "markdown":
            cells.append(new_markdown_cell(source))
            continue
        if kind == "code":
            cells.append(new_code_cell(source))
            continue
        meta = {"grade_id": grade_id, "locked": kind == "check", "schema_version": 3}
        if kind == "check":
            meta.update(grade=True, solution=False, points=2 if grade_id == "check_half" else 1)
        else:
            meta.update(grade=False, solution=True)
        cells.append(new_code_cell(source, metadata={"nbgrader": meta}))
    answer = {"grade": True, "grade_id": "q1", "solution": True, "points": 2, "locked": False}
    cells.append(new_markdown_cell("YOUR ANSWER HERE", metadata={"nbgrader": answer}))
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return new_notebook(cells=cells, metadata={"kernelspec": kernel})


@pytest.mark.slow
def test_report_tells_each_problem_apart_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "mine.ipynb"
    nbformat.write(crafted_notebook(), path)
    before = path.read_bytes(), path.stat().st_mtime_ns

    report = run_checks(path, timeout=5)

    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.ipynb"]
    data = json.loads(json.dumps(report.as_dict()))
    checks = {c["grade_id"]: c for c in data["checks"]}
    assert {k: c["status"] for k, c in checks.items()} == {
        "check_double": "ok",
        "check_half": "error",
        "check_ratio": "error",
        "check_triple": "failed",
        "check_square": "failed",
        "check_printed": "ok",  # a comparison printed, not raised: not read
        "check_loop": "timeout",
        "check_after": "ok",  # the run goes on after an error and a timeout; nothing patched
    }
    assert data["ok"] is False and checks["check_half"]["points"] == 2
    assert [checks[k]["cell"] for k in ("check_double", "check_after")] == [8, 15]
    half = checks["check_half"]["problem"]
    assert (half["type"], half["function"], half["cell"]) == ("NotImplementedError", "half", 4)
    assert half["hint"] == "not implemented yet"
    ratio = checks["check_ratio"]["problem"]
    assert (ratio["type"], ratio["message"]) == ("ZeroDivisionError", "float division by zero")
    assert (ratio["function"], ratio["cell"]) == ("ratio", 5)

    triple = checks["check_triple"]["problem"]
    assert (triple["type"], triple["function"], triple["cell"], triple["hint"]) == (
        "CheckFailed", "triple", 6, None,
    )  # fmt: skip
    fail = triple["message"].splitlines()
    assert len(fail) == 1 and fail[0].startswith("FAIL  triple out: relative error ")
    # the worst entry (x = 5: 11 instead of 15) and the recognized bug's sentence
    assert "at [2] (yours 11, expected 15)" in fail[0]
    assert fail[0].endswith("Hint: triple adds 1 where it adds x.")
    assert "shape" not in triple["message"]  # the check that passed is not listed

    square = checks["check_square"]["problem"]
    assert (square["type"], square["function"], square["cell"], square["hint"]) == (
        "CheckFailed", "square_backward", 7, "not implemented yet",
    )  # fmt: skip
    assert square["message"].startswith("FAIL  square: gradient check FAILED\n      ")
    assert "backward raised NotImplementedError" in square["message"]
    assert "stopped after 5 s" in checks["check_loop"]["problem"]["hint"]
    assert data["not_implemented"] == [
        {"cell": "cell 4", "functions": ["half"]},
        {"cell": "cell 7", "functions": ["square_backward"]},
    ]
    other = [(e["cell"], e["problem"]["type"]) for e in data["other_errors"]]
    assert other == [("cell 16", "NameError"), ("cell 17", "CheckFailed")]
    assert data["other_errors"][1]["problem"]["function"] == "double"

    text = render(report)
    # cells as JupyterLab numbers them (1-based over all cells)
    assert "half (cell 4) is not implemented yet" in text
    assert "square_backward (cell 7) is not implemented yet" in text
    assert "ZeroDivisionError: float division by zero, raised in ratio (cell 5)" in text
    row = r"\n  failed   cell 11 \(check_triple\) +1 pt  checks of triple \(cell 6\) failed\n"
    assert re.search(row, text)
    assert f"\n           {fail[0]}\n" in text  # the FAIL line under its check
    assert (
        "\n  cell 17: checks of double (cell 3) failed\n    FAIL  double(1) is not above 5.\n"
        in text
    )
    assert "3 of 8 visible checks ran cleanly" in text
    assert "Hidden tests decide the grade and are not run here" in text


def test_fail_lines_are_the_failed_checks_as_printed():
    printed = (
        "ok    relu out: ok (max relative error 0.0e+00)\n"
        "\x1b[0mFAIL  relu dx: relative error 1 at [0] (yours 0, expected 1)\n"
        "FAIL  relu: gradient check FAILED\n"
        "        dx: relative error 0.5 at [1]\n"
        "ok    relu shape: ok\n"
        "      an indented line the student printed\n"
    )
    assert fail_lines(printed) == [
        "FAIL  relu dx: relative error 1 at [0] (yours 0, expected 1)",
        "FAIL  relu: gradient check FAILED",
        "        dx: relative error 0.5 at [1]",
    ]
    assert fail_lines("ok    relu out: ok\n") == []


def test_a_failure_without_printed_lines_falls_back_to_the_exception_message():
    error = {"ename": "CheckFailed", "evalue": "1 of 2 checks of relu_forward failed; the first: "
             "relu_forward out: got None"}  # fmt: skip
    problem = describe_failure(error, "", {"relu_forward": 12})
    assert (problem.type, problem.function, problem.cell) == ("CheckFailed", "relu_forward", 12)
    assert problem.message == error["evalue"] and problem.hint is None
    printed = "FAIL  relu_forward out: got None\n"
    assert describe_failure(error, printed, {}).message == printed.strip()


def test_usage_errors_are_one_sentence_and_exit_2(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "folder.ipynb").mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), tmp_path / "plain.ipynb")
    cases = {
        "missing.ipynb": "does not exist: give the path of your .ipynb file.",
        "folder.ipynb": "is a folder: give the path of the .ipynb file in it.",
        "notes.txt": "is not a notebook: give the path of the .ipynb file.",
        "broken.ipynb": "is not valid JSON (line 1, column 12): it was probably truncated",
        "list.ipynb": "is JSON but not a Jupyter notebook.",
        "plain.ipynb": "has no graded check cells: give an assignment notebook of the course.",
    }
    for name, sentence in cases.items():
        assert main([str(tmp_path / name)]) == 2, name
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(f"error: {tmp_path / name} "), (name, err)
        assert sentence in err and len(err.strip().splitlines()) == 1, (name, err)
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "plain.ipynb"), "--timeout", "0"])
    assert exc.value.code == 2 and "--timeout must be a positive" in capsys.readouterr().err


def test_stub_functions_names_what_still_raises():
    stub = "    raise NotImplementedError()"
    assert stub_functions("def f(x):\n    return x") == []
    assert stub_functions(f"def f(x):\n{stub}\n\n\ndef g(x):\n    return x") == ["f"]
    source = "class Net:\n    def __init__(self):\n        self.w = 1\n\n"
    source += f"    def loss(self, X):\n    {stub}"
    assert stub_functions(source) == ["Net.loss"]
    assert stub_functions(f"def f(x)\n{stub}") == ["?"]  # a stub that does not even parse


def solution_filled(released: Path, assignment: str) -> nbformat.NotebookNode:
    """The released notebook with each solution cell replaced by the instructor's code (marker
    lines dropped): what a student who solved everything hands in."""
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    answers = {}
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            lines = cell.source.splitlines()
            answers[meta["grade_id"]] = "\n".join(x for x in lines if "SOLUTION" not in x)
    nb = nbformat.read(released, 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No package index, no pip configuration of this machine: pip can only use what it sees."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_CACHE_DIR=str(tmp_path / "cache"))
    return env


@pytest.mark.slow
def test_student_path_bundle_start_check(tmp_path):
    """Unpack the bundle, install it with start.py into a new .venv, check two notebooks.

    Offline: the first start.py run creates .venv and fails to download the pins (shown with
    its message); then the course environment's site-packages is made visible to the new .venv
    through a .pth file, standing in for the downloads, and start.py installs for real: pip
    finds every pin satisfied and builds layerlab from the bundle with its own backend.
    """
    with zipfile.ZipFile(build_bundle("a1_activations", tmp_path / "dist")) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / f"{COURSE_STEM}-a1_activations"
    env = offline_env(tmp_path)

    def start(*command, cwd=folder) -> subprocess.Popen:
        return subprocess.Popen(
            [str(c) for c in command], cwd=cwd, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
        out, err = process.communicate(timeout=300)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def run(*command, cwd=folder) -> subprocess.CompletedProcess:
        return finish(start(*command, cwd=cwd))

    first = run(BASE_PYTHON, "start.py", "--no-lab")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "installing the course packages and layerlab failed" in first.stderr
    python = folder / ".venv" / "bin" / "python"
    assert python.exists()

    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    site = Path(site.stdout.strip())
    (site / "course-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    second = run(BASE_PYTHON, "start.py", "--no-lab")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "start.py: installed." in second.stdout
    again = run(BASE_PYTHON, "start.py", "--no-lab")
    assert again.returncode == 0 and "installing" not in again.stdout  # nothing to redo

    where = run(python, "-c", "import layerlab.check as c; print(c.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()) == site / "layerlab" / "check.py"  # the installed copy
    assert run(python, "-c", "import autograder", cwd=tmp_path).returncode == 1  # not there

    released = folder / "a1_activations" / "a1_activations.ipynb"
    before = released.read_bytes(), released.stat().st_mtime_ns
    mine = folder / "a1_activations" / "mine.ipynb"
    nbformat.write(solution_filled(released, "a1_activations"), mine)
    # The two notebooks are checked at the same time (the test's longest part).
    todo = start(python, "-m", "layerlab.check", "a1_activations/a1_activations.ipynb")
    done = start(BASE_PYTHON, "start.py", "--check", "a1_activations/mine.ipynb", "--json")
    todo, done = finish(todo), finish(done)

    assert todo.returncode == 1, todo.stdout + todo.stderr
    assert "error    cell 5 (rel_error)" in todo.stdout
    assert "rel_error (cell 4) is not implemented yet" in todo.stdout
    assert "sigmoid_forward (cell 11) is not implemented yet" in todo.stdout
    assert "Hidden tests decide the grade and are not run here" in todo.stdout
    assert (released.read_bytes(), released.stat().st_mtime_ns) == before

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    n_checks = sum(
        c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade") is True
        for c in nbformat.read(released, 4).cells
    )
    assert report["ok"] is True and report["not_implemented"] == []
    assert [c["status"] for c in report["checks"]] == ["ok"] * n_checks and n_checks == 37

    missing = run(python, "-m", "layerlab.check", "a1_activations/nope.ipynb")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == (
        "error: a1_activations/nope.ipynb does not exist: give the path of your .ipynb file.\n"
    )


# ------------------------------------------------ what the judge says about a notebook's cells
# The judge names cells the way JupyterLab shows them ("Cell 68/93": 1-based over all cells,
# Markdown included) with the function the cell defines, and definitions-only mode (--fast)
# says nothing about statements that failed only because an experiment was skipped.


def filled_notebook(assignment: str) -> nbformat.NotebookNode:
    """The released notebook with the solutions filled in: a student's correct work."""
    from autograder.course import Course
    from autograder.demo import student_notebook
    from autograder.mutation import solution_cells
    from autograder.suites import load_suite

    return student_notebook(Course(ROOT), assignment, solution_cells(load_suite(assignment)))


def judge_json(path: Path, *options: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "judge", "--json", "--seed", "7", *options, str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "assignment", ["a1_activations", "a2_losses", "a3_backprop", "a4_normalization"]
)
def test_fast_mode_reports_nothing_on_correct_work(tmp_path, assignment):
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(filled_notebook(assignment), path)
    report = judge_json(path, "--fast")
    assert report["score"] == report["max_score"]
    assert [n for n in report["notes"] if not n.startswith("WARNING")] == []


def test_load_problems_name_the_cell_as_jupyterlab_numbers_it(tmp_path):
    nb = filled_notebook("a1_activations")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    index = next(i for i in code if "def rel_error(a, b):" in nb.cells[i].source)
    nb.cells[index].source = nb.cells[index].source.replace(
        "def rel_error(a, b):", "def rel_error(a, b=undefined_default):"
    )
    number, code_number = index + 1, code.index(index) + 1
    assert number != code_number  # Markdown cells come first: the two numberings differ
    path = tmp_path / "a1_activations.ipynb"
    nbformat.write(nb, path)
    for mode in ((), ("--fast",)):
        notes = judge_json(path, *mode)["notes"]
        expected = (
            f"cell {number} (rel_error): NameError: name 'undefined_default' is not defined "
            f"(cell {number}, line 1) (the rest of the notebook was still run)"
        )
        assert notes[0] == expected, mode
        assert not any(f"cell {code_number}:" in n for n in notes if code_number != number)


def test_definitions_mode_is_silent_only_about_what_skipped_experiments_bound():
    import ast

    from autograder.worker.main import run_definitions

    cells = [
        "import numpy as np\ndigits = load_digits()\nsizes = []\nfor n in range(3):\n"
        "    sizes.append(n)\nnp.random.seed(0)",
        "X = digits.images[:10]\nY = X + 1\nfit = np.polyfit(np.log(sizes[2:]), sizes[2:], 1)",
        "SCALE = np.sqrt(2.0)\nBAD = undefined_name + 1\n"
        "WORSE = SCALE * np.reshape(np.arange(3), (2, 2))",
    ]
    namespace, skipped = {}, set()
    failures = [run_definitions(ast.parse(c), "<cell>", namespace, skipped) for c in cells]
    assert failures[0] == [] and failures[1] == []
    assert [type(e).__name__ for e in failures[2]] == ["NameError", "ValueError"]
    assert {"digits", "sizes", "X", "Y", "fit"} <= skipped and "np" in namespace
    assert namespace["SCALE"] == 2.0**0.5


def test_worker_numbers_cells_as_told_and_names_the_function():
    from autograder.worker.main import Worker

    cells = ["def f(x):\n    return 1 / x", "y = f(0)"]
    problems = Worker().load(cells, "all", numbers=[3, 7])["problems"]
    assert problems == [
        {
            "cell": 7,
            "numbering": "notebook",
            "type": "ZeroDivisionError",
            "message": "division by zero",
            "where": "cell 3, line 2, in f",
        }
    ]
    assert Worker().load(cells, "all")["problems"][0]["cell"] == 2  # code cells, as before
    assert Worker().load(cells, "all", numbers=[1])["problems"][0]["numbering"] == "code"
