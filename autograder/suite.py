"""How hidden tests are written and run.

A suite is a list of tests. A test is a function ``run(t)`` that talks to the student's code
only through ``t`` (a :class:`TestContext`): ``t.call`` runs a graded function and returns plain
data, ``t.close`` / ``t.check`` record sub-checks. The same test runs against a sandboxed
worker (the judge) or against a namespace in the grading process (``LocalStudent``, used when a
solution notebook runs its own hidden cells). Scores: a test's points times the fraction of
its sub-checks that passed; zero when the student's code raised, hung or was killed.
"""

from __future__ import annotations

import copy
import resource
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from autograder.worker.main import same_value
from layerlab.gradcheck import Comparison, compare
from layerlab.verdicts import in_place_message

# ----------------------------------------------------------------------------- outcomes


class StudentCodeProblem(Exception):
    """The student's code could not give an answer; ``status`` is the report's status."""

    status = "error"


class StudentRaised(StudentCodeProblem):
    """The student's function raised an exception (message already worded for the student)."""


class MissingFunction(StudentCodeProblem):
    def __init__(self, name: str):
        super().__init__(
            f"{name} is not defined in your submission. Keep the function name and signature "
            "exactly as given in the assignment, and make sure its cell runs without errors."
        )


class CallTimeout(StudentCodeProblem):
    status = "timeout"


class WorkerKilled(StudentCodeProblem):
    status = "killed"


class BadReturn(StudentCodeProblem):
    """The student's function returned something that cannot be graded (wrong type/arity)."""


@dataclass(frozen=True)
class Handle:
    """An object that stays on the student's side (a cache, a model); only its id travels."""

    id: int
    type_name: str
    obj: Any = field(default=None, compare=False, repr=False)  # set by LocalStudent only


@dataclass(frozen=True)
class FunctionSpec:
    """A callable argument built on the student's side from a fixed registry (no code travels)."""

    name: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Earlier:
    """In a batch (``TestContext.batch``): the value of the batch's request ``index``, or
    ``Earlier(i)[k]`` its item ``k``. A kept object stays on the student's side; plain data is
    passed as a copy of what was returned."""

    index: int
    path: tuple = ()

    def __getitem__(self, key) -> Earlier:
        return Earlier(self.index, (*self.path, key))


@dataclass(frozen=True)
class Call:
    """A call of a batch (the arguments of ``TestContext.call``)."""

    target: str | tuple[Handle, str]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    keep: tuple = ()
    mutable: tuple = ()


@dataclass(frozen=True)
class Assign:
    """An assignment of a batch (the arguments of ``TestContext.assign``)."""

    handle: Handle
    path: tuple
    value: Any


@dataclass
class Outcome:
    """What one request of a batch gave. ``value`` raises the student's problem when the
    request failed, or when an earlier one did (it then never ran)."""

    result: Any = None
    changed: dict = field(default_factory=dict)
    fp_events: list = field(default_factory=list)
    seconds: float | None = None  # CPU seconds of a call, where the student's code ran
    problem: Exception | None = None

    @property
    def value(self) -> Any:
        if self.problem is not None:
            raise self.problem
        return self.result


def run_in_order(student: Student, requests: Sequence[Call | Assign]) -> list[Outcome]:
    """A batch as separate requests, for students without a batch of their own: each
    ``Earlier`` replaced by the value it names, stopping at the first problem."""
    outcomes: list[Outcome] = []
    for request in requests:
        try:
            try:
                request = _with_earlier(request, outcomes)
            except (LookupError, TypeError) as exc:  # as the worker says it
                raise StudentRaised(f"the earlier result has no such item ({exc})") from exc
            if isinstance(request, Assign):
                student.assign(request.handle, list(request.path), request.value)
                outcomes.append(Outcome())
                continue
            value, changed, events = student.call(
                request.target, list(request.args), dict(request.kwargs), tuple(request.keep)
            )
        except StudentCodeProblem as exc:
            outcomes.append(Outcome(problem=exc))
            break
        outcomes.append(Outcome(value, changed, events, student.last_call_seconds))
    return outcomes


def _with_earlier(request, outcomes: list[Outcome]):
    def swap(value):
        if isinstance(value, Earlier):
            found = outcomes[value.index].result
            for key in value.path:
                found = found[key]
            return found if isinstance(found, Handle) else _copy_plain(found)
        if isinstance(value, list | tuple):
            return type(value)(swap(v) for v in value)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    if isinstance(request, Assign):
        return Assign(swap(request.handle), request.path, swap(request.value))
    return Call(swap(request.target), swap(request.args), swap(request.kwargs), request.keep)


class Student(Protocol):
    """What a test may ask of the student's code. Implemented by the sandboxed worker client
    (``autograder.sandbox.WorkerClient``) and by ``LocalStudent``. ``last_call_seconds`` is
    the CPU time of the last call, measured where the student's code ran."""

    last_call_seconds: float | None

    def has(self, name: str) -> bool: ...

    def call(
        self, target: str | tuple[Handle, str], args: list, kwargs: dict, keep: Iterable[int]
    ) -> tuple[Any, dict[int, Any], list[str]]:
        """Call a function (or a handle's method); return ``(value, changed_args, fp_events)``:
        ``changed_args`` maps argument positions to their values after the call when changed,
        ``fp_events`` lists numpy floating-point errors raised during it ("overflow", ...),
        and "non-finite result" when the value holds NaN or an infinity."""
        ...

    def attr(self, handle: Handle, name: str) -> Any: ...

    def assign(self, handle: Handle, path: list[str], value: Any) -> None: ...

    def batch(self, requests: Sequence[Call | Assign]) -> list[Outcome]:
        """``requests`` in order, in one exchange where the student's code runs elsewhere;
        stops at the first that fails (its ``Outcome`` holds the problem)."""
        ...


# ----------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class TestSpec:
    id: str
    points: float
    functions: tuple[str, ...]
    run: Callable[[TestContext], None]
    timeout: float = 20.0
    description: str = ""


class Suite:
    """The hidden tests of one assignment, registered with the :meth:`test` decorator."""

    def __init__(self, assignment: str, notebook: str | None = None):
        self.assignment = assignment
        self.notebook = notebook or assignment
        self.tests: list[TestSpec] = []

    def test(self, id: str, points: float, functions: Iterable[str], timeout: float = 20.0):
        def register(fn: Callable[[TestContext], None]):
            if any(t.id == id for t in self.tests):
                raise ValueError(f"duplicate test id {id!r} in suite {self.assignment}")
            doc = (fn.__doc__ or "").strip().splitlines()
            self.tests.append(
                TestSpec(id, float(points), tuple(functions), fn, timeout, doc[0] if doc else "")
            )
            return fn

        return register

    @property
    def functions(self) -> list[str]:
        """Every graded function name, in first-use order."""
        seen: dict[str, None] = {}
        for t in self.tests:
            seen.update(dict.fromkeys(t.functions))
        return list(seen)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    def get(self, test_id: str) -> TestSpec:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(f"suite {self.assignment} has no test {test_id!r}")


def test_rng(seed: int, test_id: str) -> np.random.Generator:
    """The test's own generator: independent of test order, reproducible from the seed."""
    return np.random.default_rng([seed, zlib.crc32(test_id.encode())])


@dataclass
class SubCheck:
    label: str
    ok: bool
    message: str
    weight: float = 1.0


class TestContext:
    """What a test sees: the student's functions, a seeded generator, the sub-check record."""

    def __init__(self, spec: TestSpec, student: Student, rng: np.random.Generator):
        self.spec = spec
        self.student = student
        self.rng = rng
        self.checks: list[SubCheck] = []
        self._changed: dict[int, Any] = {}
        self.fp_events: list[str] = []

    # -- talking to the student's code -------------------------------------------------

    def call(self, target, *args, keep: Iterable[int] = (), mutable: Iterable[int] = (), **kw):
        """Call the student's ``target`` (a name, or ``(handle, method)``) and return its value.

        Positions in ``keep`` of a tuple result stay on the student's side as ``Handle``s.
        Every array argument not listed in ``mutable`` must come back unchanged: a change is
        recorded as a failed sub-check. ``updated(i)`` gives argument ``i`` after the call.
        """
        if isinstance(target, str) and not self.student.has(target):
            raise MissingFunction(target)
        value, changed, self.fp_events = self.student.call(target, list(args), kw, tuple(keep))
        self._changed = changed
        self._note_changes(target, args, changed, mutable)
        return value

    def _note_changes(self, target, args, changed: dict, mutable: Iterable[int]) -> None:
        """A failed sub-check for each array argument changed in place that may not be."""
        name = target if isinstance(target, str) else f"{target[1]}"
        allowed = set(mutable)
        for i, arg in enumerate(args):
            if i in changed and i not in allowed and isinstance(arg, np.ndarray):
                self.checks.append(
                    SubCheck(
                        f"{name} input {i}",
                        False,
                        in_place_message(name, f"its argument #{i + 1}"),
                    )
                )

    def batch(self, *requests: Call | Assign) -> list[Outcome]:
        """Run ``requests`` in order in one exchange with the student's code (one round trip
        instead of one per request) and return one ``Outcome`` each, in order.

        Each call is checked as ``call`` checks it (a function that is not defined, arrays
        changed in place). A later request may use an earlier one's value as ``Earlier(i)``
        or an item of it as ``Earlier(i)[k]``. The first request that fails ends the batch:
        its outcome and every later one raise its problem when their ``value`` is read.
        """
        names = [r.target if isinstance(r, Call) else None for r in requests]
        missing = next(
            (i for i, n in enumerate(names) if isinstance(n, str) and not self.student.has(n)),
            len(requests),
        )
        outcomes = self.student.batch(list(requests[:missing])) if missing else []
        if missing < len(requests) and len(outcomes) == missing:
            outcomes.append(Outcome(problem=MissingFunction(requests[missing].target)))
        for request, outcome in zip(requests, outcomes, strict=False):
            if isinstance(request, Call) and outcome.problem is None:
                self._note_changes(request.target, request.args, outcome.changed, request.mutable)
                self._changed, self.fp_events = outcome.changed, outcome.fp_events
        failed = outcomes[-1].problem if outcomes else None
        outcomes += [Outcome(problem=failed) for _ in range(len(requests) - len(outcomes))]
        return outcomes

    def updated(self, position: int, original: Any = None) -> Any:
        """Argument ``position`` of the last call as it was after the call."""
        return self._changed.get(position, original)

    def attr(self, handle: Handle, name: str) -> Any:
        return self.student.attr(handle, name)

    def assign(self, handle: Handle, path: list[str], value: Any) -> None:
        self.student.assign(handle, path, value)

    @staticmethod
    def fn(name: str, **params) -> FunctionSpec:
        return FunctionSpec(name, params)

    # -- recording verdicts ------------------------------------------------------------

    def check(self, label: str, ok: bool, message: str = "", weight: float = 1.0) -> bool:
        self.checks.append(SubCheck(label, bool(ok), message or f"{label}: failed", weight))
        return bool(ok)

    def close(self, label: str, actual, expected, *, rtol: float = 1e-7, weight=1.0, **kw):
        """Record whether ``actual`` matches the reference ``expected`` (see ``compare``).

        Kept for suites not yet moved to ``autograder.checks.expect``, which adds the float64
        contract, known bugs that change the message only, and tolerances from the computation.
        """
        cmp: Comparison = compare(label, actual, expected, rtol=rtol, **kw)
        self.checks.append(SubCheck(label, cmp.ok, cmp.message, weight))
        return cmp.ok

    def tuple_of(self, label: str, value, n: int) -> tuple:
        """``value`` as an ``n``-tuple, or ``BadReturn`` with a message naming what came back."""
        if isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, tuple) or len(value) != n:
            got = f"a tuple of {len(value)}" if isinstance(value, tuple) else type(value).__name__
            raise BadReturn(f"{label} must return a tuple of {n} values; it returned {got}.")
        return value

    # -- outcome ---------------------------------------------------------------------

    def fraction(self) -> float:
        total = sum(c.weight for c in self.checks)
        if total == 0:
            return 0.0
        return sum(c.weight for c in self.checks if c.ok) / total

    def failure_messages(self) -> list[str]:
        """Messages of the failed sub-checks, each once, in order."""
        return list(dict.fromkeys(c.message for c in self.checks if not c.ok))


@dataclass
class TestResult:
    id: str
    functions: list[str]
    score: float
    max_score: float
    status: str  # passed | failed | error | timeout | killed
    message: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "functions": list(self.functions),
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "message": self.message,
        }


def run_test(spec: TestSpec, student: Student, seed: int) -> TestResult:
    """Run one test against ``student`` and turn what happened into a scored result.

    Never raises: a test that cannot check what the student's code returned (a string, a
    ragged list, a custom object where an array belongs) is an ``error`` for this test only.
    That the solution scores full marks is proved by each assignment's own tests, so an
    exception here points at the returned value, not at the suite.
    """
    t = TestContext(spec, student, test_rng(seed, spec.id))
    base = dict(id=spec.id, functions=list(spec.functions), max_score=spec.points)
    try:
        spec.run(t)
    except StudentCodeProblem as exc:
        return TestResult(**base, score=0.0, status=exc.status, message=str(exc))
    except Exception as exc:  # noqa: BLE001  (any value the student returned may land here)
        return TestResult(**base, score=0.0, status="error", message=unusable_value(spec, exc))
    if not t.checks:
        return TestResult(
            **base,
            score=0.0,
            status="error",
            message=f"{', '.join(spec.functions)}: nothing could be checked "
            "(the functions returned nothing usable).",
        )
    frac = t.fraction()
    score = round(spec.points * frac, 4)
    if frac == 1.0:
        return TestResult(**base, score=score, status="passed", message="ok")
    failures = t.failure_messages()
    message = " | ".join(failures[:4]) + (
        f" | (+{len(failures) - 4} more)" if len(failures) > 4 else ""
    )
    return TestResult(**base, score=score, status="failed", message=message)


# ----------------------------------------------------------------------------- in-process


class LocalStudent:
    """Student code living in a namespace of this process (solution notebooks, unit tests).

    Never used to grade submissions: those run in the sandboxed worker.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.last_call_seconds: float | None = None  # CPU seconds of the last call

    def has(self, name: str) -> bool:
        return callable(self.namespace.get(name))

    def _resolve(self, value):
        if isinstance(value, Handle):
            return value.obj
        if isinstance(value, FunctionSpec):
            from autograder.worker.functions import build

            return build(value.name, value.params)
        if isinstance(value, tuple):
            return tuple(self._resolve(v) for v in value)
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        return value

    def call(self, target, args, kwargs, keep):
        if isinstance(target, str):
            fn = self.namespace[target]
        else:
            fn = getattr(target[0].obj, target[1])
        # Copies, as the sandbox's channel makes: writes by the student never reach the test.
        args = [self._resolve(_copy_plain(a)) for a in args]
        kwargs = {k: self._resolve(_copy_plain(v)) for k, v in kwargs.items()}
        before = [copy.deepcopy(a) if isinstance(a, np.ndarray | dict) else None for a in args]
        events: list[str] = []
        old = np.seterrcall(lambda kind, flag: events.append(kind))
        started = _cpu_seconds()
        try:
            with np.errstate(all="call"):
                value = fn(*args, **kwargs)
        except Exception as exc:
            raise StudentRaised(f"{_name(target)} raised {type(exc).__name__}: {exc}") from exc
        finally:
            np.seterrcall(old)
            self.last_call_seconds = _cpu_seconds() - started
        if has_non_finite(value):
            events.append("non-finite result")
        changed = {}
        for i, (a, b) in enumerate(zip(args, before, strict=True)):
            if b is not None and not same_value(a, b):
                changed[i] = copy.deepcopy(a)
        return self._wrap(value, keep), changed, sorted(set(events))

    def batch(self, requests):
        return run_in_order(self, requests)

    def _wrap(self, value, keep):
        """Kept and non-plain values as handles; plain data copied, as the channel copies it
        (a later call that changes the student's original must not change what the test
        was given)."""
        if isinstance(value, tuple):
            return tuple(
                self._handle(v) if i in keep or not _plain(v) else _copy_plain(v)
                for i, v in enumerate(value)
            )
        return _copy_plain(value) if _plain(value) else self._handle(value)

    @staticmethod
    def _handle(obj) -> Handle:
        return Handle(id(obj), type(obj).__name__, obj)

    def attr(self, handle, name):
        if not hasattr(handle.obj, name):
            raise StudentRaised(f"{handle.type_name} has no attribute {name!r}.")
        return copy.deepcopy(getattr(handle.obj, name))

    def assign(self, handle, path, value):
        target = getattr(handle.obj, path[0])
        for key in path[1:-1]:
            target = target[key]
        if len(path) == 1:
            setattr(handle.obj, path[0], value)
        else:
            target[path[-1]] = value


def has_non_finite(value, depth: int = 0) -> bool:
    """Whether a returned value holds NaN or an infinity anywhere (a stability test's own
    observation, independent of anything the student's process reports)."""
    if depth > 50:
        return False
    if isinstance(value, float | complex | np.floating | np.complexfloating):
        return not np.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return not bool(np.isfinite(value).all())
    if isinstance(value, list | tuple):
        return any(has_non_finite(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(has_non_finite(v, depth + 1) for v in value.values())
    return False


def unusable_value(spec: TestSpec, exc: Exception) -> str:
    """The message for a returned value the test could not even compare."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return (
        f"{', '.join(spec.functions)} returned something the test could not check ({detail}); "
        "return exactly what the docstring asks for (numpy arrays of the stated shapes, "
        "float scalars, tuples of the stated length)."
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _copy_plain(value):
    """Copy arrays and containers of plain data; leave handles and everything else as is."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | tuple):
        return type(value)(_copy_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    return value


def _name(target) -> str:
    return target if isinstance(target, str) else f"{target[0].type_name}.{target[1]}"


def _plain(v) -> bool:
    if v is None or isinstance(v, bool | int | float | str | np.ndarray | np.generic):
        return not (isinstance(v, np.ndarray) and v.dtype == object)
    if isinstance(v, list | tuple):
        return all(_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain(x) for k, x in v.items())
    return False
