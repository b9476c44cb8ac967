"""The mutation report: hand catalog and machine-made mutants, per assignment.

``mutation_report(suites, seed)`` grades, for each suite, every catalog entry and every
machine-made mutant under the seeds ``0, 1, seed`` and returns the printable text and whether
everything held: every catalog mutant killed and every variant at full marks under each seed,
and at least :data:`TARGET` of the non-equivalent machine-made mutants killed. With
``LAYERLAB_SURVIVORS_DIR`` set (or ``survivors_dir`` given), each assignment's survivors are
also written to ``<dir>/<assignment>.txt``.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from autograder.mutation.catalog import ROOT, EntryOutcome, evaluate_catalog, seeds_with
from autograder.mutation.catalog import solution_cells as _solution_cells
from autograder.mutation.domains import CONTRACT_DEFAULTS, probes_for
from autograder.mutation.generate import generate_mutants
from autograder.mutation.pool import default_jobs
from autograder.mutation.run import Context, Outcome, grade_mutants
from autograder.suite import Suite

TARGET = 0.98  # the share of non-equivalent machine-made mutants a suite must kill
SURVIVORS_ENV = "LAYERLAB_SURVIVORS_DIR"  # when set: where survivors files are written


@dataclass
class GeneratedSummary:
    """Machine-made mutants of one assignment, graded."""

    assignment: str
    seeds: tuple[int, ...]
    outcomes: list[Outcome]
    seconds: float

    @property
    def equivalent(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.killed and o.equivalent]

    @property
    def non_equivalent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.killed or not o.equivalent]

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.killed and not o.equivalent]

    @property
    def killed(self) -> int:
        return sum(o.killed for o in self.outcomes)

    @property
    def rate(self) -> float:
        total = len(self.non_equivalent)
        return self.killed / total if total else 1.0


def run_generated(suite: Suite, seeds, jobs: int | None = None) -> GeneratedSummary:
    """Generate, grade and filter the machine-made mutants of ``suite``'s solution."""
    start = time.monotonic()
    cells = _solution_cells(suite)
    defaults = CONTRACT_DEFAULTS.get(suite.assignment, {})
    mutants = generate_mutants(cells, prefix=f"{suite.assignment[:2]}-", defaults=defaults)
    context = Context.build(suite, cells, seeds, probes_for(suite.assignment))
    outcomes = grade_mutants(
        context, mutants, jobs=jobs or default_jobs(), progress=_progress(suite.assignment)
    )
    return GeneratedSummary(suite.assignment, tuple(seeds), outcomes, time.monotonic() - start)


def _progress(assignment: str):
    """Report progress on stderr every tenth of the way (the report itself goes to stdout)."""

    def show(done: int, total: int) -> None:
        if done == total or done % max(1, total // 10) == 0:
            print(f"{assignment}: {done}/{total} mutants graded", file=sys.stderr, flush=True)

    return show


def _scores(scores, max_score) -> str:
    """``"2/2, lost, 2/2"``: a seed's score, or ``lost`` when it lost points there."""
    if not scores:
        return "(no score)"
    return ", ".join("lost" if s is None else f"{s:g}/{max_score:g}" for s in scores)


def survivor_block(outcome: Outcome, seeds) -> str:
    """One survivor as the suite engineers read it: function, edit, scores per seed."""
    m = outcome.mutant
    return "\n".join(
        [
            f"{m.id} {m.function} [{m.operator}] (cell {m.cell + 1}, line {m.line})",
            f"  before: {m.before}",
            f"  after:  {m.after}",
            f"  scores per seed ({', '.join(map(str, seeds))}): "
            f"{_scores(outcome.scores, outcome.max_score)}",
            f"  not shown equivalent: {outcome.why or 'no test reaches it'}",
        ]
    )


def generated_lines(summary: GeneratedSummary) -> list[str]:
    non_eq = len(summary.non_equivalent)
    lines = [
        f"machine-made mutants (seeds {', '.join(map(str, summary.seeds))}): "
        f"generated {len(summary.outcomes)}, equivalent (filtered) {len(summary.equivalent)}, "
        f"non-equivalent {non_eq}, killed {summary.killed}/{non_eq} "
        f"({100 * summary.rate:.1f}%), {summary.seconds:.0f} s",
    ]
    by_operator = Counter(o.mutant.operator for o in summary.non_equivalent)
    killed = Counter(o.mutant.operator for o in summary.outcomes if o.killed)
    lines.append(
        "  by operator: "
        + ", ".join(f"{op} {killed[op]}/{n}" for op, n in sorted(by_operator.items()))
    )
    if summary.survivors:
        lines.append(f"  survivors ({len(summary.survivors)}):")
        for outcome in summary.survivors:
            lines += ["    " + line for line in survivor_block(outcome, summary.seeds).splitlines()]
    return lines


def catalog_lines(mutants: list[EntryOutcome], variants: list[EntryOutcome], seeds) -> list[str]:
    killed = sum(m.killed for m in mutants)
    full = sum(v.full_marks for v in variants)
    lines = [
        f"hand catalog (seeds {', '.join(map(str, seeds))}): mutants killed under every seed "
        f"{killed}/{len(mutants)}, variants at full marks under every seed {full}/{len(variants)}"
    ]
    for m in mutants:
        if not m.killed:
            scores = _scores(m.scores, m.max_score)
            lines.append(f"  SURVIVED {m.entry.id:<34} {scores}  {m.entry.description}")
    for v in variants:
        if not v.full_marks:
            first = next((msg for msg in v.messages if msg), "")
            lines.append(f"  LOST     {v.entry.id:<34} {_scores(v.scores, v.max_score)}  {first}")
    return lines


def write_survivors(summary: GeneratedSummary, directory: Path) -> Path:
    """``<directory>/<assignment>.txt``: one block per survivor."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{summary.assignment}.txt"
    head = (
        f"# {summary.assignment}: {len(summary.outcomes)} generated, "
        f"{len(summary.equivalent)} equivalent (filtered), {len(summary.non_equivalent)} "
        f"non-equivalent, {summary.killed} killed ({100 * summary.rate:.1f}%), "
        f"{len(summary.survivors)} survivors\n"
        "# killed = lost points under every seed; scores are over the tests that reach the edit\n"
    )
    blocks = [survivor_block(o, summary.seeds) for o in summary.survivors]
    filtered = [
        f"{o.mutant.id} {o.mutant.function}: {o.mutant.before}  =>  {o.mutant.after}"
        for o in summary.equivalent
    ]
    path.write_text(
        head
        + "\n"
        + "\n\n".join(blocks)
        + f"\n\n# filtered as equivalent ({len(filtered)}): same results on every probe\n"
        + "\n".join(filtered)
        + "\n"
    )
    return path


def mutation_report(
    suites: list[Suite],
    seed: int = 1234,
    jobs: int | None = None,
    survivors_dir: Path | None = None,
    generated: bool = True,
) -> tuple[str, bool]:
    """The printable report and whether every verdict held (see the module docstring)."""
    seeds = seeds_with(seed)
    if survivors_dir is None and os.environ.get(SURVIVORS_ENV):
        survivors_dir = Path(os.environ[SURVIVORS_ENV])
    lines, perfect = [], True
    start = time.monotonic()
    for suite in suites:
        lines.append(f"== {suite.assignment}")
        if (ROOT / "tests" / "catalog" / f"{suite.assignment}.py").exists():
            mutants, variants = evaluate_catalog(suite, seeds, jobs or default_jobs())
            lines += catalog_lines(mutants, variants, seeds)
            perfect &= all(m.killed for m in mutants) and all(v.full_marks for v in variants)
        if generated:
            summary = run_generated(suite, seeds, jobs)
            lines += generated_lines(summary)
            perfect &= summary.rate >= TARGET
            if survivors_dir is not None:
                write_survivors(summary, survivors_dir)
    lines.append(f"total wall time {time.monotonic() - start:.0f} s")
    return "\n".join(lines), perfect
