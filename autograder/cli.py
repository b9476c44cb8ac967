"""``python -m autograder``: the grader's commands.

Exit status: 0 when a report was produced (whatever the score), 2 for a usage error,
1 when the grader itself failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from autograder.judge import MODES, Report, UsageError, judge


def render_table(report: Report) -> str:
    """The report as a table a person reads in a terminal."""
    lines = [f"{report.assignment}: {report.submission}  (seed {report.seed})", ""]
    if report.unreadable:
        lines += [f"NOT GRADED: the file could not be read: {report.unreadable}", ""]
    lines += [f"{'test':<28} {'status':<8} {'score':>11}  message", "-" * 100]
    for t in report.tests:
        score = f"{t.score:g}/{t.max_score:g}"
        message = "" if t.status == "passed" else t.message
        lines.append(f"{t.id:<28} {t.status:<8} {score:>11}  {message}")
    lines += ["-" * 100, f"{'total':<37} {report.score:>11g}/{report.max_score:g}"]
    said = report.unreadable or "\0"
    lines += [f"note: {n}" for n in report.notes if said not in n]
    return "\n".join(lines)


def cmd_judge(args) -> int:
    report = judge(
        Path(args.submission),
        assignment=args.assignment,
        seed=args.seed,
        mode="definitions" if args.fast else "all",
        shown_path=args.submission,
    )
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(render_table(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("judge", help="grade one submission (.ipynb or .py); writes nothing")
    p.add_argument("submission")
    p.add_argument("--assignment", help="assignment name (inferred when omitted)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seed", type=int, help="seed for the test inputs (random when omitted)")
    p.add_argument(
        "--fast",
        action="store_true",
        help=f"run only the notebook's definitions, not its experiments (modes: {MODES})",
    )
    p.set_defaults(func=cmd_judge)

    from autograder import commands

    commands.register(sub)
    return parser


def _skip_iri_grammar() -> None:
    """jsonschema, which nbformat imports to read notebooks, builds a parser for IRI strings
    at import when ``rfc3987_syntax`` is installed (a Jupyter dependency): about 1 s at the
    start of every command that reads a notebook. No notebook field is an IRI, so that
    module is marked missing in this process and jsonschema leaves the IRI formats out."""
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: list[str] | None = None) -> int:
    _skip_iri_grammar()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.
        return 0
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001  (the grader's own failure: say so, exit 1)
        print("The grader itself failed (this is a bug in layerlab, not in the submission):",
              file=sys.stderr)  # fmt: skip
        traceback.print_exc()
        return 1
