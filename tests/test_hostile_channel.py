"""Hostile submissions aimed at the channel between the sandbox and the grading process: each
costs its author that test only, never crashes the grader, and never makes the grading
process hold more than one bounded reply."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from test_sandbox import GOOD, TOY, grade, statuses

from autograder import checks
from autograder.judge import judge
from autograder.sandbox import Limits, WorkerClient
from autograder.suite import Suite

ROOT = Path(__file__).resolve().parent.parent

# Code the hostile relu_backward runs before returning the right answer: ``out`` is the
# worker's reply pipe (the fd number the worker was started with).
WRITE_ON_CHANNEL = """import os, sys, struct, json
    out = int(sys.argv[2])
    def frame(doc, *bufs):
        frames = [json.dumps(doc).encode(), *bufs]
        data = struct.pack('>Q', len(frames))
        for f in frames:
            data += struct.pack('>Q', len(f)) + f
        return data
    {attack}
    return dout * (cache > 0)"""

FORGERIES = {
    # a well-formed reply without 'value' (a KeyError in WorkerClient.call before)
    "empty-reply": "os.write(out, frame({'v': {'__dict__': {}}, 'n': 0}))",
    # a plausible reply for the wrong request
    "wrong-seq": "os.write(out, frame({'v': {'__dict__': {'value': 1.0, 'changed': "
    "{'__dict__': {}}, 'fp': [], 'seconds': 0.0, 'seq': 10**6}}, 'n': 0}))",
    "changed-junk": "os.write(out, frame({'v': {'__dict__': {'value': 1.0, 'changed': "
    "{'__dict__': {'99': 1}}, 'fp': [], 'seconds': 0.0}}, 'n': 0}))",
    "garbage": "os.write(out, b'\\xff' * 64)",
    "huge-header": "os.write(out, struct.pack('>QQ', 1, 2**40))",
    "huge-count": "os.write(out, struct.pack('>Q', 2**60))",
    "not-a-dict": "os.write(out, frame({'v': [1, 2, 3], 'n': 0}))",
    "error-not-dict": "os.write(out, frame({'v': {'__dict__': {'error': 'x'}}, 'n': 0}))",
}


@pytest.mark.parametrize("attack", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_frame_costs_only_that_test(tmp_path, attack):
    code = GOOD.replace("return dout * (cache > 0)", WRITE_ON_CHANNEL.format(attack=attack))
    report = grade(tmp_path, code)
    assert statuses(report) == {
        "relu_forward": "passed",
        "relu_backward": "killed",
        "tanh_forward": "passed",
    }, report.as_dict()
    assert "broke the grading channel" in report.tests[1].message


def _judge_in_subprocess(tmp_path, code: str, assignment: str | None = None) -> dict:
    """Judge ``code`` with the toy suite (or a real assignment) in a fresh process; return
    the statuses, the wall time and that process's peak resident memory."""
    path = tmp_path / "sub.py"
    path.write_text(code)
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from autograder.judge import judge
        started = time.monotonic()
        if {assignment!r}:
            report = judge({str(path)!r}, assignment={assignment!r}, seed=3)
        else:
            from test_sandbox import TOY
            report = judge({str(path)!r}, seed=3, suite=TOY)
        print(json.dumps({{
            "tests": [t.as_dict() for t in report.tests],
            "seconds": time.monotonic() - started,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "sandbox_peak": report.sandbox_peak_bytes,
        }}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_channel_flood_is_never_queued_in_the_grading_process(tmp_path):
    # 4 GiB of well-formed replies, 64 MiB each, written as fast as the pipe takes them.
    flood = (
        "big = b'\\0' * (64 * 2**20 - 64)\n"
        "    for _ in range(64):\n"
        "        os.write(out, frame({'v': {'__nd__': ['|u1', [len(big)], 0]}, 'n': 1}, big))"
    )
    code = GOOD.replace("return dout * (cache > 0)", WRITE_ON_CHANNEL.format(attack=flood))
    result = _judge_in_subprocess(tmp_path, code)
    got = {t["id"]: t["status"] for t in result["tests"]}
    assert got == {"relu_forward": "passed", "relu_backward": "killed", "tanh_forward": "passed"}
    assert result["peak_rss"] < 600 * 2**20, result  # 4.9 GiB before: every frame was queued


def test_a_reply_larger_than_the_cap_is_refused_before_it_is_read(tmp_path):
    code = GOOD.replace("return np.tanh(x), x", "return np.zeros(2 * 10**6), x")
    path = tmp_path / "sub.py"
    path.write_text(code)
    report = judge(path, seed=1, suite=TOY, limits=Limits(message_bytes=8 * 2**20))
    assert statuses(report)["tanh_forward"] == "killed"
    assert "larger than" in report.tests[2].message
    assert statuses(report)["relu_forward"] == "passed"


def test_a_call_reports_its_cpu_seconds_and_leaves_the_worker_usable(tmp_path):
    (tmp_path / "sub.py").write_text(GOOD)
    client = WorkerClient(tmp_path / "sub.py", [GOOD], "all", Limits())
    with client:
        client.start()
        client.begin_test(10)
        value, changed, fp = client.call("tanh_forward", [np.zeros(3)], {}, ())
        assert isinstance(client.last_call_seconds, float) and client.last_call_seconds >= 0
        assert changed == {} and fp == []
        client.end_test()
        assert client.alive and client.restarts == 0


OVERFLOWING_LOSS = """
import numpy as np

def softmax_loss(x, y):
    N = x.shape[0]
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(e.sum(axis=1)) - x[np.arange(N), y])
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
"""


def test_an_overflowing_loss_gets_the_overflow_hint_quickly(tmp_path):
    started = time.monotonic()
    result = _judge_in_subprocess(tmp_path, OVERFLOWING_LOSS, assignment="a2_losses")
    wall = time.monotonic() - started
    tests = {t["id"]: t for t in result["tests"]}
    assert tests["softmax_loss"]["status"] == "passed", tests["softmax_loss"]
    stability = tests["softmax_loss_stability"]
    assert stability["status"] == "failed"
    assert "overflow" in stability["message"] and "channel" not in stability["message"]
    assert wall < 15, wall


BIG = Suite("a1_activations")


@BIG.test("tanh_forward_big", 1, ["tanh_forward"], timeout=3)
def _tanh_forward_big(t):
    x = t.rng.standard_normal((300, 300))  # 720 kB: more than a pipe holds
    checks.forward(t, "tanh_forward", [x], np.tanh)


def test_a_worker_that_stops_reading_cannot_hang_the_grader(tmp_path):
    code = GOOD + (
        "\nimport time\nimport judge_worker.wire as wire\n"
        "wire.read_frames = lambda *args, **kwargs: time.sleep(10**6)\n"
    )
    path = tmp_path / "sub.py"
    path.write_text(code)
    started = time.monotonic()
    report = judge(path, seed=1, suite=BIG)
    assert report.tests[0].status == "timeout", report.as_dict()
    assert time.monotonic() - started < 20
