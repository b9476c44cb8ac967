"""Runs in the sandbox: execute a notebook top to bottom in a Jupyter kernel, for feedback.

``python -m judge_worker.execute IN.ipynb OUT_FD CELL_SECONDS``: the executed notebook is
written to the pipe ``OUT_FD`` (the sandbox's home is a tmpfs that vanishes with it). Errors
and cell timeouts are recorded as outputs and execution goes on, as when a student runs every
cell.
Nothing it writes decides a score: the grading process only shows the outputs to the student,
after filtering them.
"""

import os
import sys

import nbformat
from nbclient import NotebookClient

from .main import drop_privileges


def main():
    source, out_fd, cell_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.set_inheritable(out_fd, False)  # the kernel and what it starts never get the pipe
    drop_privileges()
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=cell_seconds,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        resources={"metadata": {"path": os.getcwd()}},
    )
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001  (the kernel died: keep the outputs so far)
        nb.metadata["layerlab_execution_error"] = f"{type(exc).__name__}: {exc}"[:500]
    with os.fdopen(out_fd, "w", encoding="utf-8") as out:
        out.write(nbformat.writes(nb))


if __name__ == "__main__":
    main()
