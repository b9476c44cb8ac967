"""Grading machine-made mutants: in process, a few at a time, each under several seeds.

Only the tests that can see the edit run: those that (in a traced run of the solution) call
the mutated definition or any top-level definition that refers to it, directly or through
others. Each mutant is graded in a forked child with a wall-clock limit, so a mutant that
hangs or floods memory costs only itself (and counts as killed: the real grader's limits
would fail its tests).
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, replace

from autograder.mutation.catalog import namespace_from_cells
from autograder.mutation.equivalence import Probe, equivalent, expected_results
from autograder.mutation.generate import Mutant
from autograder.mutation.pool import pool_map
from autograder.suite import LocalStudent, Suite, TestSpec, run_test
from autograder.worker.main import strip_magics

MUTANT_TIMEOUT = 120.0  # seconds of wall time for one mutant, all seeds


@dataclass(frozen=True)
class Outcome:
    """Scores of one mutant (over the tests it can affect) per seed, and their maximum.

    A seed's score is ``None`` when the mutant lost points under it: grading of that seed
    stops at the first test that loses points (cheapest tests first), which is all a kill
    needs."""

    mutant: Mutant
    scores: tuple[float | None, ...]  # per seed, over the selected tests; None: lost points
    max_score: float  # of the selected tests
    status: str  # "graded", "timeout", "crashed"
    first_failure: str = ""
    equivalent: bool = False  # survivors only: same results as the solution on every probe
    why: str = ""  # survivors only: why it is not shown equivalent

    @property
    def killed(self) -> bool:
        """Lost points under every seed (a hang or crash counts as lost)."""
        if self.status != "graded":
            return True
        return all(s is None or s < self.max_score for s in self.scores)


class _TracingStudent(LocalStudent):
    """A LocalStudent that records the names of the definitions a test calls."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.called: set[str] = set()

    def call(self, target, args, kwargs, keep):
        if isinstance(target, str):
            self.called.add(target)
        else:
            self.called.add(type(target[0].obj).__name__)
        return super().call(target, args, kwargs, keep)


def trace_tests(suite: Suite, cells: list[str], seeds) -> tuple[dict, dict]:
    """``(calls, cost)``: for each top-level name, the ids of the tests that call it (traced
    on the solution under every seed, plus the test's declared ``functions``); for each test
    id, its seconds on the solution."""
    calls: dict[str, set[str]] = {}
    cost: dict[str, float] = {}
    for spec in suite.tests:
        names = set(spec.functions)
        start = time.perf_counter()
        for seed in seeds:
            student = _TracingStudent(namespace_from_cells(cells))
            run_test(spec, student, seed)
            names |= student.called
        cost[spec.id] = time.perf_counter() - start
        for name in names:
            calls.setdefault(name, set()).add(spec.id)
    return calls, cost


def dependents(cells: list[str]) -> dict[str, set[str]]:
    """For each top-level definition, itself and every top-level definition that refers to
    it by name, directly or through others."""
    refs: dict[str, set[str]] = {}
    for cell in cells:
        try:
            tree = ast.parse(strip_magics(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                refs[node.name] = used
    users: dict[str, set[str]] = {}
    for name in refs:
        closure, frontier = {name}, [name]
        while frontier:
            current = frontier.pop()
            for other, used in refs.items():
                if current in used and other not in closure:
                    closure.add(other)
                    frontier.append(other)
        users[name] = closure
    return users


def select_tests(suite: Suite, mutant: Mutant, calls, users, cost=None) -> list[TestSpec]:
    """The tests of ``suite`` that can see ``mutant``'s edit, cheapest first."""
    names = users.get(mutant.top, {mutant.top})
    ids = set().union(*(calls.get(n, set()) for n in names))
    chosen = [spec for spec in suite.tests if spec.id in ids]
    return sorted(chosen, key=lambda spec: (cost or {}).get(spec.id, 0.0))


@dataclass(frozen=True)
class Context:
    """What every child needs, computed once in the parent before forking."""

    suite: Suite
    seeds: tuple[int, ...]
    calls: dict[str, set[str]]  # top-level name -> ids of the tests that call it
    cost: dict[str, float]  # test id -> seconds on the solution
    users: dict[str, set[str]]  # top-level name -> the definitions that can reach it
    probes: list[Probe]
    expected: list  # the solution's result on each probe

    @classmethod
    def build(cls, suite: Suite, cells: list[str], seeds, probes: list[Probe]) -> Context:
        seeds = tuple(seeds)
        solution = namespace_from_cells(cells)
        calls, cost = trace_tests(suite, cells, seeds)
        return cls(
            suite,
            seeds,
            calls,
            cost,
            dependents(cells),
            probes,
            expected_results(solution, probes),
        )

    def reachable(self, mutant: Mutant) -> set[str]:
        return self.users.get(mutant.top, {mutant.top})


def judge_mutant(mutant: Mutant, context: Context) -> Outcome:
    """Grade one mutant under every seed; check a survivor for equivalence (in a child)."""
    tests = select_tests(context.suite, mutant, context.calls, context.users, context.cost)
    outcome = grade_mutant(mutant, tests, context.seeds)
    if outcome.killed:
        return outcome
    namespace = namespace_from_cells(list(mutant.cells))
    same, why = equivalent(
        namespace, context.probes, context.expected, context.reachable(mutant), set(context.calls)
    )
    return replace(outcome, equivalent=same, why=why)


def grade_mutant(mutant: Mutant, tests: list[TestSpec], seeds) -> Outcome:
    """Grade one mutant here, in this process, over ``tests`` only."""
    max_score = sum(spec.points for spec in tests)
    scores: list[float | None] = []
    first = ""
    for seed in seeds:
        try:
            student = LocalStudent(namespace_from_cells(list(mutant.cells)))
        except Exception as exc:  # noqa: BLE001  (a mutant that does not even load)
            return Outcome(mutant, (), max_score, "crashed", f"does not load: {exc}")
        total: float | None = 0.0
        for spec in tests:
            result = run_test(spec, student, seed)
            if result.score < spec.points:
                first = first or f"{result.id}: {result.message}"
                total = None
                break
            total += result.score
        scores.append(total)
    return Outcome(mutant, tuple(scores), max_score, "graded", first[:300])


def grade_mutants(
    context: Context,
    mutants: list[Mutant],
    jobs: int = 2,
    timeout: float = MUTANT_TIMEOUT,
    progress=None,
) -> list[Outcome]:
    """Outcomes of ``mutants`` (in their order), ``jobs`` forked children at a time; a mutant
    that hangs or crashes its child counts as killed."""
    return pool_map(
        lambda mutant: judge_mutant(mutant, context),
        mutants,
        lambda mutant, status, why: Outcome(mutant, (), 0.0, status, why),
        jobs=jobs,
        timeout=timeout,
        progress=progress,
    )
