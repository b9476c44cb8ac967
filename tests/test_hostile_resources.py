"""Hostile submissions aimed at the host's resources and at the grader's fail-closed rule:
forked children, a full disk, a worker killed in every test, a directory nested too deep to
remove recursively, detached processes, and a machine without a usable bubblewrap."""

import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_sandbox import GOOD, TOY, grade, statuses

from autograder import sandbox
from autograder.feedback import execute_for_feedback
from autograder.judge import judge
from autograder.sandbox import (
    Limits,
    SandboxUnavailable,
    create_cgroup,
    remove_tree,
    require_sandbox,
    start_sandboxed,
)
from autograder.sandbox.fonts import font_list

ROOT = Path(__file__).resolve().parent.parent
needs_bwrap = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="bubblewrap not usable")
probe = create_cgroup(f"probe-{uuid.uuid4().hex}", 2**30, 8, 1.0)
if probe is not None:
    probe.remove()
needs_cgroup = pytest.mark.skipif(probe is None, reason="no cgroup for sandboxes on this host")


def replace_tanh(body: str) -> str:
    return GOOD.replace("return np.tanh(x), x", textwrap.indent(body, "    ").lstrip())


@needs_cgroup
def test_forked_children_share_one_memory_limit(tmp_path):
    # Six children of 1 GiB each: 6 GiB of host memory with per-process limits alone.
    code = replace_tanh(
        """import os, time
kids = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = bytearray(2**30)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
time.sleep(8)
return np.tanh(x), x"""
    )
    path = tmp_path / "sub.py"
    path.write_text(code)
    limits = Limits()
    report = judge(path, seed=1, suite=TOY, limits=limits)
    assert statuses(report)["relu_forward"] == "passed"
    peak = report.sandbox_peak_bytes
    assert peak is not None and 2**30 <= peak <= limits.memory_bytes + 2**20, peak


@needs_bwrap
def test_a_disk_filling_submission_writes_to_a_capped_tmpfs_not_the_host(tmp_path, monkeypatch):
    host_tmp = _private_tempdir(tmp_path, monkeypatch)
    code = replace_tanh(
        """import os
written = 0
try:
    for i in range(4096):  # up to 4 GiB in 1 MiB files, and inodes with them
        with open(f"junk-{i}", "wb") as f:
            f.write(b"x" * 2**20)
        written += 2**20
except OSError:
    pass
return (np.tanh(x) if written <= 256 * 2**20 else np.zeros_like(x)), x"""
    )
    report = grade(tmp_path, code)
    assert statuses(report)["tanh_forward"] == "passed", report.tests[2].message
    assert list(host_tmp.iterdir()) == []


def _private_tempdir(tmp_path, monkeypatch) -> Path:
    """A temporary directory of this test's own for any host directory a sandbox makes.
    matplotlib's font list, made once per machine in the host's temporary directory (see
    ``autograder.sandbox.fonts``), is made before, wherever this test runs in the order."""
    font_list()
    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    return host_tmp


def test_a_worker_killed_in_every_test_costs_a_few_seconds_not_every_timeout(tmp_path):
    kill = "import os, time\n    os.kill(os.getppid(), 9)\n    time.sleep(600)"
    code = "import numpy as np\n" + "".join(
        f"def {name}(*args, **kwargs):\n    {kill}\n"
        for name in ("relu_forward", "relu_backward", "tanh_forward")
    )
    started = time.monotonic()
    report = grade(tmp_path, code)
    wall = time.monotonic() - started
    assert set(statuses(report).values()) == {"killed"}
    assert all("died" in t.message for t in report.tests), report.as_dict()
    assert wall < 10, wall  # one test's timeout here; 3 x 15 s waited out before


def test_restarts_are_capped(tmp_path):
    kill = "import os\n    os.kill(os.getppid(), 9)"
    code = GOOD.replace("return np.maximum(0, x), x", kill).replace("return np.tanh(x), x", kill)
    path = tmp_path / "sub.py"
    path.write_text(code)
    report = judge(path, seed=1, suite=TOY, limits=Limits(max_restarts=1))
    assert report.restarts == 1
    assert "not run" in report.tests[2].message and "died 2 times" in report.tests[2].message


def test_a_submission_budget_stops_grading(tmp_path):
    code = GOOD.replace("return np.maximum(0, x), x", "while True:\n        pass")
    path = tmp_path / "sub.py"
    path.write_text(code)
    started = time.monotonic()
    report = judge(path, seed=1, suite=TOY, limits=Limits(submission_seconds=3))
    assert time.monotonic() - started < 12
    assert [t.status for t in report.tests] == ["timeout"] * 3
    assert "budget of 3 s" in report.tests[2].message


def test_remove_tree_removes_1100_levels_links_and_locked_dirs(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    top = tmp_path / "sandbox"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(1100):  # relative to an open directory: no path is ever too long
            os.mkdir("d", dir_fd=fd)
            sub = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = sub
        with open(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=fd), "w") as f:
            f.write("deep")
        os.symlink(str(outside), "link", dir_fd=fd)
        os.mkfifo("fifo", dir_fd=fd)
        os.chmod(fd, 0o000)
    finally:
        os.close(fd)
    (top / "link-at-top").symlink_to(outside)
    remove_tree(top)
    assert not top.exists()
    assert (outside / "keep.txt").read_text() == "keep"
    remove_tree(top)  # already gone: nothing raised
    remove_tree(tmp_path / "never-existed")


def test_a_deeply_nested_directory_in_an_unsandboxed_home_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_NO_BWRAP", "1")
    host_tmp = _private_tempdir(tmp_path, monkeypatch)
    code = replace_tanh(
        """import os
fd = os.open(".", os.O_RDONLY)
for _ in range(1100):
    os.mkdir("d", dir_fd=fd)
    sub = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = sub
return np.tanh(x), x"""
    )
    report = grade(tmp_path, code)
    assert report.score == 3.0
    assert [p.name for p in host_tmp.iterdir() if p.name.startswith("layerlab-sandbox-")] == []


DETACH = """import subprocess, sys
subprocess.Popen([sys.executable, '-c',
    'import time; time.sleep(3); open("late.txt", "w").write("late")  # {marker}'],
    start_new_session=True, env={{}})
return np.tanh(x), x"""


def _running(marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return marker in out


@pytest.mark.parametrize(
    "mode", [pytest.param("sandboxed", marks=needs_bwrap),
             pytest.param("unsandboxed", marks=needs_cgroup)]
)  # fmt: skip
def test_a_detached_process_is_gone_after_grading(tmp_path, monkeypatch, mode):
    if mode == "unsandboxed":  # the process drops the environment that would mark it
        monkeypatch.setenv("LAYERLAB_NO_BWRAP", "1")
    marker = f"layerlab-detached-{uuid.uuid4().hex}"
    report = grade(tmp_path, replace_tanh(DETACH.format(marker=marker)))
    assert report.score == 3.0
    assert not _running(marker), "a process outlived the grading"


@needs_cgroup
def test_a_detached_process_is_gone_after_unsandboxed_feedback(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_NO_BWRAP", "1")
    marker = f"layerlab-detached-{uuid.uuid4().hex}"
    cell = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)  # {marker}'],"
        " start_new_session=True, env={})\nprint('detached')"
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(cell)]), path)
    run = execute_for_feedback(path, cell_seconds=20, total_seconds=120)
    assert run.notebook is not None, run.problem
    assert "detached" in str(run.notebook.cells[0].outputs)
    assert not _running(marker), "a process outlived the feedback execution"


def test_without_bubblewrap_grading_others_code_fails_closed(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_NO_BWRAP", "1")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        require_sandbox()
    victim = tmp_path / "victim.txt"
    code = GOOD + f"\nopen({str(victim)!r}, 'w').write('ran')\n"
    path = tmp_path / "sub.py"
    path.write_text(code)
    with pytest.raises(SandboxUnavailable, match="make system-deps"):
        judge(path, seed=1, suite=TOY, limits=Limits(allow_unsandboxed=False))
    with pytest.raises(SandboxUnavailable):
        start_sandboxed(["judge_worker.main"], Limits(allow_unsandboxed=False))
    assert not victim.exists()
    report = judge(path, seed=1, suite=TOY)  # one's own file: runs, with the warning
    assert victim.read_text() == "ran" and report.score == 3.0
    assert any("WITHOUT" in note for note in report.notes)


def test_a_bubblewrap_that_cannot_start_a_sandbox_counts_as_unusable(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    message = "bwrap: No permissions to create new namespace"
    (fake / "bwrap").write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    script = (
        "from autograder.sandbox import sandbox_problem, bwrap_path\n"
        "print(bwrap_path())\nprint(sandbox_problem())"
    )
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    env.pop("LAYERLAB_NO_BWRAP", None)
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    lines = run.stdout.splitlines()
    assert lines[0] == "None", run.stderr
    assert "cannot start a sandbox" in lines[1] and "namespace" in lines[1]


def test_without_cgroups_grading_falls_back_and_says_so_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("autograder.sandbox.cgroup.CGROUP_ROOT", tmp_path / "no-cgroups-here")
    monkeypatch.setattr("autograder.sandbox.cgroup._cgroup_state", {})
    assert create_cgroup("a", 2**30, 8, 1.0) is None
    assert create_cgroup("b", 2**30, 8, 1.0) is None
    assert capsys.readouterr().err.count("no cgroup for sandboxes here") == 1
    report = grade(tmp_path, GOOD)
    assert report.score == 3.0 and report.sandbox_peak_bytes is None


def test_the_grading_process_can_cap_its_own_memory():
    script = textwrap.dedent(
        """
        from autograder.sandbox import cap_own_memory
        cap_own_memory(2**30)
        cap_own_memory(2**40)  # never raises a limit already set
        try:
            block = bytearray(2 * 2**30)
            print("allocated")
        except MemoryError:
            print("refused")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.stdout.strip() == "refused", run.stderr


@needs_cgroup
def test_groups_left_by_a_killed_grader_are_removed_by_the_next(monkeypatch):
    """A grading process killed outright (SIGKILL) leaves its sandboxes' empty groups behind;
    the next grading process removes them, and only them."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = create_cgroup(f"{gone.pid}-0-{uuid.uuid4().hex[:8]}", 2**30, 8, 1.0)
    monkeypatch.setattr("autograder.sandbox.cgroup._cgroup_state", {})
    fresh = create_cgroup(f"{os.getpid()}-1-{uuid.uuid4().hex[:8]}", 2**30, 8, 1.0)
    try:
        assert stale is not None and fresh is not None
        assert not any(path.exists() for path in stale.dirs.values())
        assert all(path.exists() for path in fresh.dirs.values())
    finally:
        fresh.remove()
