"""The commands beyond ``judge``: release, grade, mutation-report."""

from __future__ import annotations

import os
from pathlib import Path

from autograder.judge import UsageError
from autograder.suites import ASSIGNMENTS


def register(sub) -> None:
    """Add the sub-commands to the CLI's argparse sub-parsers."""
    p = sub.add_parser("grade", help="grade every submission of an assignment into nbgrader")
    p.add_argument("assignment", choices=ASSIGNMENTS)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel judges")
    p.add_argument("--student", nargs="+", help="only these students")
    p.add_argument("--fast", action="store_true", help="run only definitions, not experiments")
    p.add_argument("--root", type=Path, help="course directory (default: current directory)")
    p.add_argument(
        "--feedback",
        action="store_true",
        help="also run each notebook in the sandbox and write nbgrader's HTML feedback",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("collect", help="take in an LMS zip of submissions (nbgrader zip_collect)")
    p.add_argument("assignment", choices=ASSIGNMENTS)
    p.add_argument("archive", type=Path, help="the zip file downloaded from the LMS")
    p.add_argument("--root", type=Path, help="course directory (default: current directory)")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("demo", help="grade sample submissions in a throwaway course (demo/)")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=lambda args: __import__("autograder.demo").demo.main(jobs=args.jobs))

    p = sub.add_parser("mutation-report", help="catalog of mutants and variants vs the suites")
    p.add_argument("assignment", nargs="*", help="default: every assignment with a catalog")
    p.add_argument("--seed", type=int, default=1234)
    p.set_defaults(func=cmd_mutation_report)

    p = sub.add_parser("release", help="regenerate assignments/ from solutions/ with nbgrader")
    p.add_argument("assignment", nargs="*", help="default: every assignment with a solution")
    p.add_argument("--root", type=Path)
    p.set_defaults(func=cmd_release)
    from autograder import bundle

    bundle.register(sub)
    __import__("autograder.lms").lms.register(sub)


def cmd_grade(args) -> int:
    from autograder.grading import Course, grade_class

    course = Course.find(args.root)
    csv_path = grade_class(
        course,
        args.assignment,
        jobs=args.jobs,
        students=args.student,
        mode="definitions" if args.fast else "all",
        progress=not args.no_progress,
        feedback=args.feedback,
    )
    print(f"scores written to {csv_path} and to the gradebook ({course.db_url})")
    print(f"class summary: {course.root / 'summary' / args.assignment / 'index.html'}")
    if args.feedback:
        print(f"feedback pages written under {course.root / 'feedback'}/*/{args.assignment}/")
    return 0


def cmd_collect(args) -> int:
    from autograder.grading import Course
    from autograder.intake import collect

    course = Course.find(args.root)
    found = collect(course, args.assignment, args.archive)
    print(f"{len(found['students'])} students under submitted/*/{args.assignment}/")
    if found["skipped"]:
        print(
            f"{len(found['skipped'])} files did not match the file-name pattern and were "
            f"skipped: {', '.join(found['skipped'][:10])}. Adjust "
            "c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py if they belong in."
        )
    return 0


def cmd_release(args) -> int:
    from autograder.grading import Course
    from autograder.release import release

    course = Course.find(args.root)
    names = args.assignment or [a for a in ASSIGNMENTS if (course.root / "solutions" / a).is_dir()]
    for name in names:
        if name not in ASSIGNMENTS:
            raise UsageError(f"unknown assignment {name!r}")
        release(course, name)
        print(f"released {name} -> assignments/{name}/")
    return 0


def cmd_mutation_report(args) -> int:
    from autograder.mutation import ROOT, mutation_report
    from autograder.suites import load_suite

    names = args.assignment or [
        a for a in ASSIGNMENTS if (ROOT / "tests" / "catalog" / f"{a}.py").exists()
    ]
    text, perfect = mutation_report([load_suite(n) for n in names], seed=args.seed)
    print(text)
    return 0 if perfect else 1
