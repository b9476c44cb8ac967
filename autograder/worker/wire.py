"""The channel's format: plain data only, never pickle.

A message is a JSON document followed by the raw bytes of the arrays it mentions. Each frame
on the pipe is an 8-byte big-endian length and a payload. The encodable values are None, bool,
int, float (NaN and inf included), str, lists, tuples, dicts with string keys, numeric numpy
arrays and scalars, and two markers: a handle (an object kept on the student's side) and a
function spec (a callable built from ``functions.REGISTRY``). Decoding rejects everything else,
so nothing the student's side sends can make the grading process run code.
"""

import json
import struct

import numpy as np

MAX_FRAME = 512 * 1024 * 1024
_ALLOWED_KINDS = "biufc"
_LEN = struct.Struct(">Q")


class WireError(Exception):
    """The other side sent something that is not a valid message."""


class HandleRef:
    """A reference to an object kept on the student's side."""

    def __init__(self, id, type_name):
        self.id = id
        self.type_name = type_name


class FunctionRef:
    """A callable argument the receiving side builds with ``functions.build(name, params)``."""

    def __init__(self, name, params):
        self.name = name
        self.params = params


def _encode(value, buffers, make_handle):
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 2**63 else {"__bigint__": str(value)}
    if isinstance(value, float):
        return {"__float__": repr(value)} if value != value or value in _INF else value
    if isinstance(value, np.generic) and value.dtype.kind in _ALLOWED_KINDS:
        return {"__scalar__": _encode(np.asarray(value), buffers, make_handle)}
    if isinstance(value, np.ndarray) and value.dtype.kind in _ALLOWED_KINDS:
        arr = np.ascontiguousarray(value)
        buffers.append(arr.tobytes())
        return {"__nd__": [arr.dtype.str, list(arr.shape), len(buffers) - 1]}
    if isinstance(value, list):
        return [_encode(v, buffers, make_handle) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, buffers, make_handle) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, buffers, make_handle) for k, v in value.items()}}
    if isinstance(value, HandleRef):
        return {"__handle__": [value.id, value.type_name]}
    if isinstance(value, FunctionRef):
        return {"__fn__": [value.name, _encode(value.params, buffers, make_handle)]}
    if make_handle is not None:
        return {"__handle__": list(make_handle(value))}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


_INF = (float("inf"), float("-inf"))


def encode(value, make_handle=None):
    """Return the frames (JSON first, then array buffers) for ``value``.

    ``make_handle(obj) -> (id, type_name)`` turns values that are not plain data into
    handles; without it such values raise ``WireError``.
    """
    buffers = []
    doc = _encode(value, buffers, make_handle)
    header = json.dumps({"v": doc, "n": len(buffers)}, allow_nan=False).encode()
    return [header, *buffers]


def decode(frames, resolve_handle=None, resolve_function=None):
    """Inverse of ``encode``; handle and function markers go through the two resolvers."""
    try:
        header = json.loads(frames[0])
        doc, n = header["v"], header["n"]
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"malformed message header: {exc}") from None
    if n != len(frames) - 1:
        raise WireError("message announces a different number of buffers")
    return _decode(doc, frames[1:], resolve_handle, resolve_function)


def _decode(doc, buffers, rh, rf):
    if doc is None or isinstance(doc, bool | int | float | str):
        return doc
    if isinstance(doc, list):
        return [_decode(v, buffers, rh, rf) for v in doc]
    if not isinstance(doc, dict) or len(doc) != 1:
        raise WireError("unexpected value in message")
    ((tag, body),) = doc.items()
    if tag == "__nd__":
        dtype_str, shape, index = body
        dtype = np.dtype(dtype_str)
        if dtype.kind not in _ALLOWED_KINDS:
            raise WireError(f"array of dtype {dtype} not allowed")
        shape = tuple(int(s) for s in shape)
        data = buffers[int(index)]
        if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise WireError("array buffer has the wrong size")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "__scalar__":
        return _decode(body, buffers, rh, rf)[()]
    if tag == "__float__":
        return float(body)
    if tag == "__bigint__":
        return int(body)
    if tag == "__tuple__":
        return tuple(_decode(v, buffers, rh, rf) for v in body)
    if tag == "__dict__":
        return {str(k): _decode(v, buffers, rh, rf) for k, v in body.items()}
    if tag == "__handle__" and rh is not None:
        return rh(int(body[0]), str(body[1]))
    if tag == "__fn__" and rf is not None:
        return rf(str(body[0]), _decode(body[1], buffers, rh, rf))
    raise WireError(f"unexpected marker {tag}")


def write_frames(stream, frames):
    stream.write(_LEN.pack(len(frames)))
    for f in frames:
        stream.write(_LEN.pack(len(f)))
        stream.write(f)
    stream.flush()


def read_frames(stream, limit=MAX_FRAME):
    """Read one message; ``EOFError`` when the pipe closed, ``WireError`` when it is garbage."""
    count = _LEN.unpack(_read_exact(stream, _LEN.size))[0]
    if count > 1_000_000:
        raise WireError("too many frames")
    frames, total = [], 0
    for _ in range(count):
        size = _LEN.unpack(_read_exact(stream, _LEN.size))[0]
        total += size
        if total > limit:
            raise WireError(f"message larger than {limit} bytes")
        frames.append(_read_exact(stream, size))
    return frames


def _read_exact(stream, n):
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
