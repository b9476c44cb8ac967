"""Running student code in a sandbox and talking to it.

The worker runs under bubblewrap when it is usable here: read-only system and Python
environment, a size-limited tmpfs as its home holding only the submission, no network, its
own PID namespace, an unprivileged user id. Where the host allows it, the whole sandbox also
lives in its own cgroup (memory, process count, one CPU). Always: resource limits per
process, a scrubbed environment, a wall-clock limit per test and per submission, a cap on
worker restarts, a cap on captured output and on every reply, and every process killed at
the end. Without a usable bubblewrap, ``start_sandboxed`` refuses (``SandboxUnavailable``)
unless ``Limits.allow_unsandboxed``: grading other people's code fails closed.

Where each part lives:

- ``limits``: ``Limits`` of one sandbox, ``cap_own_memory`` for the grading process.
- ``bwrap``: whether bubblewrap works (``bwrap_path``, ``sandbox_problem``,
  ``require_sandbox``, ``sandbox_warning``, ``SandboxUnavailable``), the command line and
  environment of the worker (``bwrap_command``, ``worker_environment``) and what is mounted.
- ``jail``: ``start_sandboxed`` and the running ``Sandbox``; ``kill_group``.
- ``cgroup``: the per-sandbox control group (``Cgroup``, ``create_cgroup``).
- ``cleanup``: ``remove_tree`` for a sandbox's home directory.
- ``client``: ``WorkerClient``, the grading side of the channel to the worker.
- ``problems``: the student's error or the worker's death as a ``StudentCodeProblem``.

The worker itself (``autograder/worker``) is mounted into the sandbox by path.
"""

from autograder.sandbox.bwrap import (
    LAYERLAB_PACKAGE,
    MARKER_VARIABLE,
    SANDBOX_HOME,
    WORKER_PACKAGE,
    SandboxUnavailable,
    bwrap_command,
    bwrap_path,
    require_sandbox,
    sandbox_problem,
    sandbox_warning,
    worker_environment,
)
from autograder.sandbox.cgroup import Cgroup, create_cgroup
from autograder.sandbox.cleanup import remove_tree
from autograder.sandbox.client import WorkerClient
from autograder.sandbox.jail import Sandbox, kill_group, start_sandboxed
from autograder.sandbox.limits import Limits, cap_own_memory
from autograder.sandbox.problems import ended_problem, raised_problem

__all__ = [
    "LAYERLAB_PACKAGE",
    "MARKER_VARIABLE",
    "SANDBOX_HOME",
    "WORKER_PACKAGE",
    "Cgroup",
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "WorkerClient",
    "bwrap_command",
    "bwrap_path",
    "cap_own_memory",
    "create_cgroup",
    "ended_problem",
    "kill_group",
    "raised_problem",
    "remove_tree",
    "require_sandbox",
    "sandbox_problem",
    "sandbox_warning",
    "start_sandboxed",
    "worker_environment",
]
