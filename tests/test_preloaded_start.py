"""Workers forked from a pre-imported zygote into a fresh sandbox (``autograder.sandbox.zygote``)
are as isolated as workers started afresh: their own processes, files, user and descriptors
only, nothing left by an earlier submission, and the sandbox ends with the worker."""

import os
import time

import pytest

import autograder.sandbox.zygote as zygote_module
from autograder.sandbox import Limits, WorkerClient
from autograder.sandbox.bwrap import bwrap_path

pytestmark = pytest.mark.skipif(
    bwrap_path() is None or os.getuid() != 0,
    reason="preloaded starts need bubblewrap and a grader running as root",
)

PROBES = """
import os, subprocess, sys
import numpy as np

def seen():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return {
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "uid": os.getuid(),
        "caps": status["CapEff"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "home": sorted(os.listdir(".")),
        "tmp": sorted(os.listdir("/tmp")),
        "preloaded": "matplotlib.pyplot" in sys.modules,
        "argv": sys.argv[1:],
        "draw": float(np.random.rand()),
        "names": [open(f"/proc/{pid}/comm").read().strip() for pid in (os.getpid(), os.getppid())],
    }

def leave_traces():
    open("/tmp/left-behind", "w").write("x")
    open("left-behind", "w").write("x")
    return subprocess.Popen(["sleep", "600"], start_new_session=True).pid
"""


@pytest.fixture
def submission(tmp_path):
    path = tmp_path / "sub.ipynb"
    path.write_text("{}")
    return path


def _client(submission, mode="definitions"):
    client = WorkerClient(submission, [PROBES], mode, Limits(allow_unsandboxed=False))
    client.start()
    return client


def _call(client, name):
    client.begin_test(30)
    try:
        return client.call(name, [], {}, [])[0]
    finally:
        client.end_test()


def test_a_preloaded_worker_sees_only_its_own_sandbox(submission):
    with _client(submission) as client:
        seen = _call(client, "seen")
    assert zygote_module._zygotes, "the worker did not come from a zygote"
    # bubblewrap's init, the placeholder, the worker, the test's fork: no zygote, no watcher
    assert seen["processes"] == [1, 2, 3, 4], seen
    channel = [int(a) for a in seen["argv"]]
    assert set(seen["fds"]) <= {0, 1, 2, *channel} | set(range(3, 20)), seen
    assert len(seen["fds"]) <= 7, seen  # stdio, the channel, the placeholder's pipe, listdir
    assert seen["uid"] != 0 and seen["caps"] == "0000000000000000", seen
    assert seen["no_new_privs"] == "1", seen
    assert seen["home"] == ["sub.ipynb"], seen
    assert not seen["preloaded"], "definitions-only workers do not carry matplotlib"
    assert seen["names"] == ["ll-test", "ll-worker"], "the processes are named for ps and perf"


def test_whole_notebook_workers_have_matplotlib_imported_already(submission):
    with _client(submission, mode="all") as client:
        assert _call(client, "seen")["preloaded"]


def test_nothing_of_one_submission_reaches_the_next(submission):
    with _client(submission, mode="all") as first:
        marker = first.sandbox.marker
        assert isinstance(_call(first, "leave_traces"), int)
        draw = _call(first, "seen")["draw"]
        assert "left-behind" in _call(first, "seen")["home"]
    assert _processes_marked(marker) == [], "the first submission's sleeper outlived it"
    with _client(submission, mode="all") as second:
        seen = _call(second, "seen")
    assert "left-behind" not in seen["tmp"], seen
    assert seen["home"] == ["sub.ipynb"], seen
    assert seen["processes"] == [1, 2, 3, 4], seen  # the first one's sleeper is not here
    assert seen["draw"] != draw  # numpy's global generator is seeded afresh for each worker


def _processes_marked(marker):
    """Host processes whose environment carries a sandbox's marker."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if f"LAYERLAB_SANDBOX_ID={marker}".encode() in f.read().split(b"\0"):
                    found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def test_the_sandbox_ends_with_its_worker(submission):
    killer = (
        PROBES + "\ndef die():\n    os.kill(os.getppid(), 9)\n    import time; time.sleep(600)\n"
    )
    client = WorkerClient(submission, [killer], "definitions", Limits(allow_unsandboxed=False))
    client.start()
    sandbox = client.sandbox
    client.begin_test(30)
    with pytest.raises(Exception, match="died"):
        client.call("die", [], {}, [])
    deadline = time.monotonic() + 10
    while sandbox.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = sandbox.alive
    client.close()
    assert not alive, "the test's process outlived the worker it was forked from"


def test_a_zygote_that_fails_falls_back_to_a_fresh_start(submission, monkeypatch):
    def refuse(self, fds, request):
        raise zygote_module.ZygoteError("refused for the test")

    monkeypatch.setattr(zygote_module.Zygote, "spawn", refuse)
    monkeypatch.setattr(zygote_module, "_failures", {})
    with _client(submission, mode="all") as client:
        seen = _call(client, "seen")
    assert seen["processes"] == [1, 2, 3], seen  # bubblewrap's init, the worker, the fork
    assert not seen["preloaded"]
    assert seen["names"] == ["ll-test", "ll-worker"], seen


def test_a_zygote_that_cannot_import_says_why():
    with pytest.raises(zygote_module.ZygoteError, match="importing: ModuleNotFoundError"):
        zygote_module.Zygote(bwrap_path(), ("numpy", "no_such_module_for_the_test"))
