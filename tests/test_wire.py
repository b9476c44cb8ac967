"""The channel's format: every value the worker may return survives encode/decode bit for bit,
and anything malformed is a ``WireError``, never another exception."""

import io
import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.worker import wire

KINDS = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
         np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128]  # fmt: skip
ORDERS = ["<", ">"]


def same(a, b) -> bool:
    """Equal in type, dtype, shape and bits (NaN equals NaN, -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray | np.generic):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        if math.isnan(a):  # a Python float's NaN travels as "nan": its payload bits are not kept
            return math.isnan(b)
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


dtypes = st.sampled_from(KINDS).flatmap(
    lambda k: st.sampled_from(ORDERS).map(lambda o: np.dtype(k).newbyteorder(o))
)
arrays = dtypes.flatmap(
    lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
)
scalars = arrays.filter(lambda a: a.size > 0).map(lambda a: a.reshape(-1)[0])
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -1.7976931348623157e308]
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | floats
    | st.complex_numbers(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | scalars
    | arrays
)
values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_every_plain_value_round_trips_bit_for_bit(value):
    assert same(wire.decode(wire.encode(value)), value)


@settings(max_examples=200, deadline=None)
@given(values)
def test_frames_round_trip_through_a_pipe_one_message_at_a_time(value):
    stream = io.BytesIO()
    wire.write_frames(stream, wire.encode(value))
    wire.write_frames(stream, wire.encode("next"))
    stream.seek(0)
    assert same(wire.decode(wire.read_frames(stream)), value)
    assert wire.decode(wire.read_frames(stream)) == "next"


@pytest.mark.parametrize(
    "value",
    [np.float64(np.inf), np.float64(-np.inf), np.float64(np.nan), np.float32(np.nan),
     np.float64(-0.0), -0.0, math.nan, np.array([]), np.zeros((0, 3)), np.zeros((2, 0, 5)),
     np.array(3.5), np.ones((3, 4)).T, np.arange(10)[::3], np.bool_(False), np.uint64(2**64 - 1),
     {"loss": np.float64(np.inf), "grads": (np.array([np.nan, -0.0]), [np.int8(-1)])}],
    ids=repr,
)  # fmt: skip
def test_values_an_overflowing_or_empty_computation_returns(value):
    assert same(wire.decode(wire.encode(value)), value)


def test_non_finite_floats_travel_as_canonical_text_not_repr():
    header = wire.encode([math.inf, -math.inf, math.nan])[0]
    assert b'"inf"' in header and b'"-inf"' in header and b'"nan"' in header


def test_values_that_are_not_plain_data_need_a_handle():
    with pytest.raises(wire.WireError, match="cannot send a value of type object"):
        wire.encode(object())
    frames = wire.encode([object()], make_handle=lambda obj: (7, "object"))
    got = wire.decode(frames, resolve_handle=lambda i, name: (i, name))
    assert got == [(7, "object")]
    with pytest.raises(wire.WireError):
        wire.encode(np.array(["text"]))  # a string array is not numeric


def test_values_nested_too_deeply_are_refused_on_both_sides():
    deep = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested"):
        wire.encode(deep)
    header = ("[" * 5000 + "]" * 5000).encode()
    with pytest.raises(wire.WireError):
        wire.decode([b'{"v": ' + header + b', "n": 0}'])


FORGED = [
    b"not json",
    b"[]",
    b'{"v": 1}',
    b'{"v": 1, "n": 3}',
    b'{"v": {"__nd__": ["<f8", [2], 0]}, "n": 1}',  # buffer of the wrong size
    b'{"v": {"__nd__": ["O", [1], 0]}, "n": 1}',  # object dtype
    b'{"v": {"__nd__": ["V8", [1], 0]}, "n": 1}',
    b'{"v": {"__nd__": ["<f8", [-1], 0]}, "n": 1}',
    b'{"v": {"__nd__": ["<f8", [1], 5]}, "n": 1}',
    b'{"v": {"__nd__": ["<f8", [1]]}, "n": 1}',
    b'{"v": {"__nd__": "x"}, "n": 1}',
    b'{"v": {"__scalar__": {"__nd__": ["<f8", [1], 0]}}, "n": 1}',  # not 0-d
    b'{"v": {"__float__": "np.float64(inf)"}, "n": 0}',
    b'{"v": {"__bigint__": "' + b"f" * 5000 + b'"}, "n": 0}',
    b'{"v": {"__handle__": [1, "x"]}, "n": 0}',  # no resolver
    b'{"v": {"__pickle__": "x"}, "n": 0}',
    b'{"v": {"a": 1, "b": 2}, "n": 0}',
    b'{"v": {"__tuple__": 3}, "n": 0}',
    b'{"v": {"__complex__": [1]}, "n": 0}',
]


@pytest.mark.parametrize("header", FORGED, ids=range(len(FORGED)))
def test_malformed_messages_are_wire_errors(header):
    with pytest.raises(wire.WireError):
        wire.decode([header, b"\x00" * 8])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.binary(max_size=16), max_size=3))
def test_random_bytes_never_raise_anything_but_wire_error(header, buffers):
    try:
        wire.decode([header, *buffers])
    except wire.WireError:
        pass


def _message(*frames: bytes, count: int | None = None) -> io.BytesIO:
    out = struct.pack(">Q", len(frames) if count is None else count)
    for f in frames:
        out += struct.pack(">Q", len(f)) + f
    return io.BytesIO(out)


def test_reading_stops_at_the_caps_and_after_one_message():
    with pytest.raises(wire.WireError, match="header larger"):
        wire.read_frames(_message(b"x" * 101), header_limit=100)
    with pytest.raises(wire.WireError, match="larger than 150"):
        wire.read_frames(_message(b"x" * 100, b"y" * 100), limit=150)
    with pytest.raises(wire.WireError, match="frames"):
        wire.read_frames(_message(count=10**9))
    with pytest.raises(wire.WireError, match="frames"):
        wire.read_frames(_message(count=0))
    with pytest.raises(EOFError):
        wire.read_frames(_message(b"x" * 100, count=2))
    stream = _message(b"one")
    stream.seek(0, io.SEEK_END)
    stream.write(b"trailing bytes a student wrote")
    stream.seek(0)
    assert wire.read_frames(stream) == [b"one"]
    assert stream.read() == b"trailing bytes a student wrote"
