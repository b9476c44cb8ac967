"""The commands beyond ``judge``: grade, collect, demo, mutation-report, release (and, from
their own modules, export and student-bundle)."""

from __future__ import annotations

import os
import sys
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
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade even without bubblewrap (students' code then runs unconfined: only for "
        "code you trust)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="judge on Dask workers: a scheduler's address (tcp://HOST:8786) or local:N for a "
        "Dask cluster of N processes here (needs pip install -e '.[cluster]')",
    )
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser(
        "collect",
        help="take in an LMS zip of submissions (newest file per student, names, LATE, times)",
    )
    p.add_argument("assignment", choices=ASSIGNMENTS)
    p.add_argument("archive", type=Path, help="the zip file downloaded from the LMS")
    p.add_argument("--root", type=Path, help="course directory (default: current directory)")
    p.add_argument(
        "--due",
        help="the assignment's due date (e.g. '2026-11-20 23:59 UTC'), recorded in the "
        "gradebook so nbgrader's late penalty applies",
    )
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("demo", help="grade sample submissions in a throwaway course (demo/)")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=lambda args: __import__("autograder.demo").demo.main(jobs=args.jobs))

    p = sub.add_parser(
        "mutation-report", help="hand catalog and machine-made mutants vs the suites"
    )
    p.add_argument("assignment", nargs="*", help="default: every assignment with a catalog")
    p.add_argument("--seed", type=int, default=1234, help="the third seed (0 and 1 always)")
    p.add_argument("--jobs", type=int, help="grading processes (default: the CPUs)")
    p.add_argument("--survivors", type=Path, help="write each assignment's survivors here")
    p.set_defaults(func=cmd_mutation_report)

    p = sub.add_parser(
        "visible-report", help="the notebooks' visible checks vs the hand catalog's mutants"
    )
    p.add_argument("assignment", nargs="*", help="default: every assignment with a catalog")
    p.add_argument("--only", help="only the mutants whose id contains this")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--verbose", action="store_true", help="where each mutant was seen")
    p.add_argument("--min-rate", type=float, default=0.8, help="exit 1 below this share")
    p.add_argument(
        "--no-experiments", action="store_true", help="experiment cells: definitions only"
    )
    p.set_defaults(func=cmd_visible_report)

    p = sub.add_parser("release", help="regenerate assignments/ from solutions/ with nbgrader")
    p.add_argument("assignment", nargs="*", help="default: every assignment with a solution")
    p.add_argument("--root", type=Path)
    p.set_defaults(func=cmd_release)
    from autograder import bundle

    bundle.register(sub)
    __import__("autograder.lms").lms.register(sub)


def cmd_grade(args) -> int:
    from autograder.course import Course
    from autograder.grading import grade_class
    from autograder.sandbox import SandboxUnavailable, require_sandbox

    course = Course.find(args.root)
    assignment = course.assignment(args.assignment)
    if args.no_sandbox:
        print("WARNING: --no-sandbox: students' code runs WITHOUT isolation from this machine, "
              "the course directory and each other.", file=sys.stderr)  # fmt: skip
    elif args.scheduler is None or args.scheduler.startswith("local:"):
        # Students' code runs here: refuse without a sandbox. With a remote scheduler it runs
        # on the workers, and each worker without one refuses its tasks itself.
        try:
            require_sandbox()
        except SandboxUnavailable as exc:
            raise UsageError(f"{exc} Nothing was graded or changed.") from exc
    run = grade_class(
        assignment,
        jobs=args.jobs,
        students=args.student,
        mode="definitions" if args.fast else "all",
        progress=not args.no_progress,
        feedback=args.feedback,
        sandboxed_only=not args.no_sandbox,
        scheduler=args.scheduler,
    )
    for note in run.notes:
        print(f"note: {note}")
    if run.interrupted:
        print(f"interrupted: {len(run.judged)} reports finished and kept, {run.remaining} "
              "submissions remain; run the same command again to grade only those.",
              file=sys.stderr)  # fmt: skip
        # Everything finished is on disk (atomic reports, committed gradebook): leave now
        # rather than wait seconds for the interpreter to wind down after a killed pool.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + (run.signal or 2))
    from autograder.summary import class_table

    print(class_table(course.root, assignment.name, run.reports, run.previous))
    for student in run.judged:
        if run.reports[student].get("unreadable"):
            print(f"{student}: not graded, the file could not be read: "
                  f"{run.reports[student]['unreadable']}")  # fmt: skip
    print(f"{len(run.judged)} submissions judged, {len(run.reports) - len(run.judged)} "
          "unchanged since the last run (reports reused).")  # fmt: skip
    print(f"scores written to {run.csv_path} and to the gradebook ({course.db_url})")
    print(f"class summary: {assignment.summary_path}")
    if args.feedback:
        print(f"feedback pages written under {course.root / 'feedback'}/*/{assignment.name}/")
    if run.grader_errors:
        print(f"\nThe grader itself failed on {len(run.grader_errors)} submissions (nothing "
              "recorded for them; judged again on the next run):", file=sys.stderr)  # fmt: skip
        for student, reason in sorted(run.grader_errors.items()):
            print(f"  {student}: {reason}", file=sys.stderr)
        return 1
    return 0


def cmd_collect(args) -> int:
    from autograder.course import Course
    from autograder.gradebook import ensure_registered
    from autograder.intake import collect, describe, parse_due

    course = Course.find(args.root)
    assignment = course.assignment(args.assignment)
    found = collect(
        course.root,
        assignment.name,
        args.archive,
        notebook=assignment.notebook,
        due=parse_due(args.due) if args.due else None,
        register=lambda: ensure_registered(assignment),
    )
    print(describe(found))
    return 0


def cmd_release(args) -> int:
    from autograder.course import Course
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
    suites = [load_suite(n) for n in names]
    text, perfect = mutation_report(
        suites, seed=args.seed, jobs=args.jobs, survivors_dir=args.survivors
    )
    print(text)
    return 0 if perfect else 1


def cmd_visible_report(args) -> int:
    from autograder.mutation import ROOT
    from autograder.mutation.visible import visible_report

    names = args.assignment or [
        a for a in ASSIGNMENTS if (ROOT / "tests" / "catalog" / f"{a}.py").exists()
    ]
    good = True
    for name in names:
        report = visible_report(
            name, jobs=args.jobs, only=args.only, experiments=not args.no_experiments
        )
        print(report.render(verbose=args.verbose), flush=True)
        good = good and not report.baseline.seen and (args.only or report.rate >= args.min_rate)
    return 0 if good else 1
