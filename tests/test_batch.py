"""Batches of requests (``TestContext.batch``): one exchange with the sandbox gives exactly
what the same requests sent one by one give, in the sandbox and in process alike."""

import contextlib
import textwrap

import numpy as np
import pytest

from autograder.sandbox import Limits, WorkerClient
from autograder.suite import (
    Assign,
    Call,
    Earlier,
    LocalStudent,
    MissingFunction,
    StudentRaised,
    WorkerKilled,
)
from autograder.suite import TestContext as Context
from autograder.suite import TestSpec as Spec

CODE = textwrap.dedent(
    """
    import numpy as np

    LOG = []
    LAST = {}

    class Counter:
        def __init__(self):
            self.n = 0
            self.params = {"w": np.zeros(2)}

        def bump(self):
            self.n += 1
            return self.n

        def weights(self):
            return self.params["w"]

    def forward(x):
        out = 2 * x
        LAST["out"] = out
        return out, Counter()

    def backward(dout, cache):
        cache.bump()
        LAST["out"] *= 0  # changes the forward's output after it was returned
        return dout * 2, cache.n

    def echo(value):
        value += 1  # in place: must not reach the grader or a later request
        return value

    def scalar(x):
        return 1.0

    def fails(x):
        raise ValueError("no")

    def record(x):
        LOG.append(x)
        return len(LOG)

    def log_length():
        return len(LOG)

    def forged():
        import judge_worker.wire as wire
        return wire.EarlierRef(0)
    """
)

SPEC = Spec("batch", 1.0, ("forward",), lambda t: None)


@contextlib.contextmanager
def sandboxed(tmp_path):
    """A test's context on ``CODE`` loaded in a sandbox, one test begun."""
    notebook = tmp_path / "sub.ipynb"
    notebook.write_text("{}")
    with WorkerClient(notebook, [CODE], "definitions", Limits()) as client:
        client.start()
        client.begin_test(20)
        yield Context(SPEC, client, np.random.default_rng(0))


@pytest.fixture(params=["sandbox", "in process"])
def context(request, tmp_path):
    if request.param == "in process":
        namespace: dict = {}
        exec(CODE, namespace)
        yield Context(SPEC, LocalStudent(namespace), np.random.default_rng(0))
        return
    with sandboxed(tmp_path) as t:
        yield t


def test_a_kept_object_is_shared_and_plain_values_are_copies_as_returned(context):
    x = np.arange(3.0)
    forward, first, second, echoed = context.batch(
        Call("forward", (x,), keep=(1,)),
        Call("backward", (np.ones(3), Earlier(0)[1])),
        Call("backward", (np.ones(3), Earlier(0)[1])),
        Call("echo", (Earlier(0)[0],), mutable=(0,)),
    )
    assert np.array_equal(forward.value[0], [0.0, 2.0, 4.0])
    assert first.value[1] == 1 and second.value[1] == 2  # one cache, bumped twice
    # the forward's output as it was returned, though the backward zeroed the original since
    assert np.array_equal(echoed.value, [1.0, 3.0, 5.0])
    assert np.array_equal(forward.value[0], [0.0, 2.0, 4.0])
    assert first.seconds is not None and first.fp_events == []


def test_an_argument_changed_in_place_is_a_failed_check_as_with_call(context):
    context.batch(Call("echo", (np.zeros(2),)))
    assert [c.ok for c in context.checks] == [False]
    assert "in place" in context.checks[0].message


def test_the_first_failure_ends_the_batch_and_later_requests_never_run(context):
    outcomes = context.batch(
        Call("record", (1,)),
        Call("fails", (np.zeros(1),)),
        Call("record", (2,)),
    )
    assert outcomes[0].value == 1
    with pytest.raises(StudentRaised, match="ValueError"):
        _ = outcomes[1].value
    with pytest.raises(StudentRaised, match="ValueError"):
        _ = outcomes[2].value
    assert context.call("log_length") == 1


def test_a_missing_function_ends_the_batch_where_it_stands(context):
    outcomes = context.batch(Call("record", (1,)), Call("nowhere", ()), Call("record", (2,)))
    assert outcomes[0].value == 1
    for outcome in outcomes[1:]:
        with pytest.raises(MissingFunction, match="nowhere is not defined"):
            _ = outcome.value
    assert context.call("log_length") == 1


def test_an_item_the_earlier_value_does_not_have_is_that_request_s_problem(context):
    first, second = context.batch(
        Call("scalar", (np.zeros(1),)), Call("backward", (np.ones(1), Earlier(0)[1]))
    )
    assert first.value == 1.0
    with pytest.raises(StudentRaised, match="no such item|has no item"):
        _ = second.value


def test_assignments_and_methods_of_kept_objects(context):
    _, counter = context.call("forward", np.zeros(1), keep=(1,))
    outcomes = context.batch(
        Assign(counter, ("params", "w"), np.ones(2)),
        Call((counter, "weights"), ()),
        Call((counter, "bump"), ()),
    )
    assert np.array_equal(outcomes[1].value, [1.0, 1.0]) and outcomes[2].value == 1


def test_a_forged_earlier_result_from_student_code_breaks_only_the_channel(tmp_path):
    with sandboxed(tmp_path) as t:
        (outcome,) = t.batch(Call("forged", ()))
        with pytest.raises(WorkerKilled, match="broke the grading channel"):
            _ = outcome.value


def test_an_earlier_result_outside_a_batch_is_refused(tmp_path):
    with sandboxed(tmp_path) as t, pytest.raises(StudentRaised, match="outside a batch"):
        t.call("echo", Earlier(0), mutable=(0,))
