"""``python -m autograder.mutation [ASSIGNMENT ...] [--survivors DIR] [--jobs N] [--seed N]``:
the mutation report, optionally writing each assignment's survivors to ``DIR/<a>.txt``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.mutation.report import mutation_report
from autograder.suites import ASSIGNMENTS, load_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.mutation")
    parser.add_argument("assignment", nargs="*", choices=[[], *ASSIGNMENTS], default=[])
    parser.add_argument("--seed", type=int, default=1234, help="third seed (0 and 1 always run)")
    parser.add_argument("--jobs", type=int, default=None, help="graders at a time (default 2)")
    parser.add_argument("--survivors", type=Path, help="write DIR/<assignment>.txt")
    parser.add_argument("--no-generated", action="store_true", help="hand catalog only")
    args = parser.parse_args(argv)
    suites = [load_suite(name) for name in (args.assignment or ASSIGNMENTS)]
    text, perfect = mutation_report(
        suites,
        seed=args.seed,
        jobs=args.jobs,
        survivors_dir=args.survivors,
        generated=not args.no_generated,
    )
    print(text)
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main())
