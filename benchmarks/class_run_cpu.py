"""Where a class run's CPU goes: one ``grade`` run sampled by ``perf``, split by process role.

``profile_submission.py`` times one submission on an idle machine; this measures a whole class
run as it really runs (both cores busy, kernel work included). ``perf record -a`` samples every
CPU while ``python -m autograder grade`` grades the class, and each sample is booked to the role
of the process it hit, from the process names the grader sets (``ll-grader``, ``ll-zygote``,
``ll-watcher``, ``ll-worker``, ``ll-test``): the coordinating process, the grading processes,
the sandboxes' set-up (bubblewrap and its placeholder, the zygotes and watchers), the workers,
the tests' forks, and the rest of the machine. Needs ``perf`` (Debian: ``linux-perf``) and root.

    python benchmarks/class_run_cpu.py [--assignment a1_activations] [--n 200] [--mode fast]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grading_throughput import MODES, ROOT, check_scores, make_course, register  # noqa: E402

SET_UP = "sandbox set-up: bubblewrap, zygotes, watchers"
ROLES = {  # process name -> role; sh and cat are the sandbox's placeholder
    "ll-grader": "grading processes: oracles, checks, channel",
    "ll-worker": "workers: loading, forking and serving the tests",
    "ll-test": "tests' forks: the student's code, requests, copy-on-write, exit",
    **dict.fromkeys(("ll-zygote", "ll-watcher", "bwrap", "sh", "cat"), SET_UP),
}
COORDINATOR = "coordinating process: queue, reports, gradebook, notebooks"
ORDER = [COORDINATOR, *dict.fromkeys(ROLES.values()), "rest of the machine", "idle"]
SAMPLE = re.compile(r"^\s*(?P<comm>.*?)\s+(?P<pid>\d+)\s+(?P<ip>[0-9a-f]+)\s*$")


def record(course_root: Path, assignment: str, mode: str, jobs: int, data: Path, hz: int):
    """Grade the class under ``perf record -a``; returns (wall seconds, coordinator's pid)."""
    grade = [sys.executable, "-m", "autograder", "grade", assignment, "--no-progress",
             "--jobs", str(jobs), *MODES[mode]]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    pid_file = data.with_suffix(".pid")
    # the shell records its pid, then becomes the grader: that pid is the coordinating process
    wrapped = ["sh", "-c", f'echo $$ > {pid_file}; exec "$@"', "sh", *grade]
    started = time.monotonic()
    proc = subprocess.run(["perf", "record", "-a", "-F", str(hz), "-o", str(data), "--", *wrapped],
                          cwd=course_root, env=env, capture_output=True, text=True)  # fmt: skip
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"the graded run failed under perf:\n{proc.stderr[-3000:]}")
    return wall, int(pid_file.read_text())


def attribute(data: Path, coordinator: int):
    """CPU samples per role, split into (user, kernel)."""
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,pid,ip"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    samples = collections.defaultdict(lambda: [0, 0])
    for line in script.stdout.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        pid, comm = int(m["pid"]), m["comm"]
        if pid == 0:
            role = "idle"
        elif pid == coordinator:
            role = COORDINATOR
        else:
            role = ROLES.get(comm, "rest of the machine")
        kernel = m["ip"].startswith("ffff")
        samples[role][kernel] += 1
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assignment", default="a1_activations")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--mode", choices=[m for m in MODES if m != "plain"], default="fast")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--hz", type=int, default=499, help="samples per second per CPU")
    args = parser.parse_args()
    if shutil.which("perf") is None:
        sys.exit("perf is not installed: install it (Debian: apt install linux-perf) and rerun.")
    if os.geteuid() != 0:
        sys.exit("perf must sample every process of the run: run this as root.")
    with tempfile.TemporaryDirectory() as tmp:
        course = make_course(Path(tmp) / "course", args.assignment, args.n, plain=False)
        register(course, args.assignment)
        data = Path(tmp) / "perf.data"
        wall, coordinator = record(course.root, args.assignment, args.mode, args.jobs, data,
                                   args.hz)  # fmt: skip
        check_scores(course.root / f"grades-{args.assignment}.csv", args.n)
        samples = attribute(data, coordinator)
    if not samples:
        sys.exit("perf recorded no samples: check perf_event_paranoid and rerun.")
    if ROLES["ll-grader"] not in samples or ROLES["ll-test"] not in samples:
        sys.exit("no sample hit a process named ll-grader or ll-test: the roles cannot be told "
                 "apart (is this the grader that names its processes?).")  # fmt: skip
    total = sum(sum(v) for v in samples.values())
    busy = total - sum(samples["idle"])
    seconds_per_sample = 1 / args.hz
    print(f"{args.n} {args.assignment} submissions, {args.mode}, --jobs {args.jobs}: "
          f"{wall:.1f} s under perf ({os.cpu_count()} cores)")  # fmt: skip
    print()
    print("| role | CPU s | share of the run | ms per submission | of it in the kernel |")
    print("|---|---:|---:|---:|---:|")
    for role in ORDER:
        user, kernel = samples.get(role, (0, 0))
        n = user + kernel
        if not n:
            continue
        ms = "" if role == "idle" else f"{n * seconds_per_sample * 1000 / args.n:.0f}"
        share = f"{100 * n / total:.1f}%"
        in_kernel = "" if role == "idle" else f"{100 * kernel / n:.0f}%"
        print(f"| {role} | {n * seconds_per_sample:.1f} | {share} | {ms} | {in_kernel} |")
    print(f"| = busy | {busy * seconds_per_sample:.1f} | {100 * busy / total:.1f}% | "
          f"{busy * seconds_per_sample * 1000 / args.n:.0f} | |")  # fmt: skip


if __name__ == "__main__":
    main()
