"""The LMS round trip: grades and feedback pages out to Canvas and Moodle.

``records`` reads the gradebook and the intake manifest, ``roster`` the class list downloaded
from the LMS, ``canvas`` and ``moodle`` write each LMS's import files, ``export`` ties them
together behind ``python -m autograder export``.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    """Add ``export`` to the CLI's argparse sub-parsers."""
    from autograder.suites import ASSIGNMENTS

    p = sub.add_parser("export", help="grades (and feedback pages) in Canvas's or Moodle's format")
    p.add_argument("assignment", choices=ASSIGNMENTS)
    p.add_argument("--to", required=True, choices=("canvas", "moodle", "csv"))
    p.add_argument(
        "--roster",
        type=Path,
        help="class list downloaded from the LMS (Canvas gradebook export or Moodle "
        "participants CSV): every student in it gets a row",
    )
    p.add_argument(
        "--out", type=Path, help="grade file (default: grades-NAME-FORMAT.csv in the course)"
    )
    p.add_argument(
        "--missing",
        choices=("zero", "blank"),
        default="zero",
        help="grade of a roster student who submitted nothing",
    )
    p.add_argument("--feedback-zip", type=Path, help="also write the feedback pages to this zip")
    p.add_argument(
        "--column",
        help="Canvas: the gradebook column to fill (default: the column "
        "titled like the assignment in the roster, else a new one)",
    )
    p.add_argument("--root", type=Path, help="course directory (default: current directory)")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from autograder.judge import UsageError
    from autograder.lms.export import report_lines, run

    root = Path(args.root or Path.cwd()).resolve()
    if not (root / "nbgrader_config.py").exists():
        raise UsageError(
            f"{root} is not a course directory (no nbgrader_config.py); run the "
            "command from the course root or pass --root."
        )
    out, exp = run(
        root,
        args.assignment,
        args.to,
        args.roster,
        args.out,
        args.missing,
        args.feedback_zip,
        args.column,
    )
    print(f"{args.to} grades written to {out}")
    if args.feedback_zip:
        print(f"{exp.zipped} feedback pages written to {args.feedback_zip}")
    for line in report_lines(exp):
        print(line)
    return 0
