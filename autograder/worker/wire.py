"""The channel's format: plain data only, never pickle.

A message is a JSON document followed by the raw bytes of the arrays it mentions. On the pipe it
is an 8-byte big-endian frame count, then each frame as an 8-byte big-endian length and its
payload; the first frame is the JSON header. The encodable values are None, bool, int, float
(NaN, +-inf and -0.0 included), complex, str, lists, tuples, dicts with string keys, numeric
numpy arrays of any shape (zero-size and 0-d included) and numpy scalars of the same kinds
(bool, signed and unsigned int, float, complex), and three markers: a handle (an object kept
on the student's side), a function spec (a callable built from ``functions.REGISTRY``) and,
in a batch of requests only, an earlier request's result.
Decoding rejects everything else, and every malformed message becomes ``WireError``, so
nothing the student's side sends can make the grading process run code or crash.
"""

import json
import math
import struct

import numpy as np

MAX_FRAME = 512 * 1024 * 1024
MAX_HEADER = 8 * 1024 * 1024
MAX_FRAMES = 100_000
MAX_DEPTH = 100
_ALLOWED_KINDS = "biufc"
_LEN = struct.Struct(">Q")


class WireError(Exception):
    """The other side sent something that is not a valid message."""


class HandleRef:
    """A reference to an object kept on the student's side."""

    def __init__(self, id, type_name):
        self.id = id
        self.type_name = type_name

    def __eq__(self, other):
        return isinstance(other, HandleRef) and (self.id, self.type_name) == (
            other.id,
            other.type_name,
        )

    __hash__ = None


class FunctionRef:
    """A callable argument the receiving side builds with ``functions.build(name, params)``."""

    def __init__(self, name, params):
        self.name = name
        self.params = params


class EarlierRef:
    """Inside a batch: item ``path`` of the value of the batch's request ``index``."""

    def __init__(self, index, path=()):
        self.index = index
        self.path = list(path)


def _float(value):
    """A Python float as JSON: itself when finite, else a tagged canonical string."""
    if math.isfinite(value):
        return value
    return {"__float__": "nan" if value != value else ("inf" if value > 0 else "-inf")}


def _encode(value, buffers, make_handle, depth):
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    # numpy scalars first: np.float64 and np.bool_ would otherwise pass for float and int.
    if isinstance(value, np.generic):
        if value.dtype.kind in _ALLOWED_KINDS:
            return {"__scalar__": _encode(np.asarray(value), buffers, make_handle, depth + 1)}
    elif value is None or isinstance(value, bool | str):
        return value
    elif isinstance(value, int):
        if abs(value) < 2**63:
            return value
        if abs(value) < 2**1024:
            return {"__bigint__": hex(value)}
        raise WireError("integer too large to send")
    elif isinstance(value, float):
        return _float(float(value))
    elif isinstance(value, complex):
        return {"__complex__": [_float(value.real), _float(value.imag)]}
    if isinstance(value, np.ndarray) and value.dtype.kind in _ALLOWED_KINDS:
        arr = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d
        buffers.append(arr.tobytes())
        return {"__nd__": [arr.dtype.str, list(arr.shape), len(buffers) - 1]}
    if isinstance(value, list):
        return [_encode(v, buffers, make_handle, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, buffers, make_handle, depth + 1) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = value.items()
        return {"__dict__": {k: _encode(v, buffers, make_handle, depth + 1) for k, v in items}}
    if isinstance(value, HandleRef):
        return {"__handle__": [value.id, value.type_name]}
    if isinstance(value, EarlierRef):
        return {"__earlier__": [value.index, _encode(value.path, buffers, None, depth + 1)]}
    if isinstance(value, FunctionRef):
        return {"__fn__": [value.name, _encode(value.params, buffers, make_handle, depth + 1)]}
    if make_handle is not None:
        return {"__handle__": list(make_handle(value))}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def encode(value, make_handle=None):
    """Return the frames (JSON first, then array buffers) for ``value``.

    ``make_handle(obj) -> (id, type_name)`` turns values that are not plain data into
    handles; without it such values raise ``WireError``.
    """
    buffers = []
    try:
        doc = _encode(value, buffers, make_handle, 0)
    except RecursionError:
        raise WireError("value nested too deeply to send") from None
    header = json.dumps({"v": doc, "n": len(buffers)}, allow_nan=False).encode()
    return [header, *buffers]


def decode(frames, resolve_handle=None, resolve_function=None, earlier=False):
    """Inverse of ``encode``; handle and function markers go through the two resolvers, and
    an earlier-result marker is accepted only with ``earlier`` (the worker reading a batch).
    Anything malformed raises ``WireError`` (never another exception)."""
    try:
        header = json.loads(frames[0])
        doc, n = header["v"], header["n"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise WireError(f"malformed message header: {exc}") from None
    if n != len(frames) - 1:
        raise WireError("message announces a different number of buffers")
    try:
        resolvers = (resolve_handle, resolve_function, earlier)
        return _decode(doc, frames[1:], resolvers, 0)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001  (bad shapes, dtypes, indices, numbers, resolvers)
        raise WireError(f"malformed value: {type(exc).__name__}: {exc}"[:300]) from None


def _decode_float(body):
    if isinstance(body, dict) and set(body) == {"__float__"}:
        text = body["__float__"]
        if text in ("nan", "inf", "-inf"):
            return float(text)
        raise WireError("bad float marker")
    if isinstance(body, int | float) and not isinstance(body, bool):
        return float(body)
    raise WireError("bad float")


def _decode(doc, buffers, resolvers, depth):
    rh, rf, earlier = resolvers
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if doc is None or isinstance(doc, bool | int | str):
        return doc
    if isinstance(doc, float):
        return doc
    if isinstance(doc, list):
        return [_decode(v, buffers, resolvers, depth + 1) for v in doc]
    if not isinstance(doc, dict) or len(doc) != 1:
        raise WireError("unexpected value in message")
    ((tag, body),) = doc.items()
    if tag == "__nd__":
        return _decode_array(body, buffers)
    if tag == "__scalar__":
        arr = _decode(body, buffers, resolvers, depth + 1)
        if not isinstance(arr, np.ndarray) or arr.shape != ():
            raise WireError("a scalar must be a 0-d array")
        return arr[()]
    if tag == "__float__":
        return _decode_float(doc)
    if tag == "__complex__":
        real, imag = body
        return complex(_decode_float(real), _decode_float(imag))
    if tag == "__bigint__":
        if not isinstance(body, str) or len(body) > 300:
            raise WireError("bad integer")
        return int(body, 16)
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(_decode(v, buffers, resolvers, depth + 1) for v in body)
    if tag == "__dict__" and isinstance(body, dict):
        return {str(k): _decode(v, buffers, resolvers, depth + 1) for k, v in body.items()}
    if tag == "__handle__" and rh is not None:
        return rh(int(body[0]), str(body[1])[:200])
    if tag == "__fn__" and rf is not None:
        return rf(str(body[0]), _decode(body[1], buffers, resolvers, depth + 1))
    if tag == "__earlier__" and earlier and isinstance(body, list) and len(body) == 2:
        index, path = body[0], _decode(body[1], buffers, resolvers, depth + 1)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise WireError("bad earlier-result index")
        if not isinstance(path, list) or not all(isinstance(k, str | int) for k in path):
            raise WireError("bad earlier-result path")
        return EarlierRef(index, path)
    raise WireError(f"unexpected marker {str(tag)[:40]}")


def _decode_array(body, buffers):
    dtype_str, shape, index = body
    if not isinstance(dtype_str, str) or len(dtype_str) > 8:
        raise WireError("bad array dtype")
    dtype = np.dtype(dtype_str)
    if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype:
        raise WireError(f"array of dtype {dtype} not allowed")
    if not isinstance(shape, list) or len(shape) > 32:
        raise WireError("bad array shape")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise WireError("bad array shape")
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise WireError("bad array buffer index")
    data = buffers[index]
    count = math.prod(shape)
    if len(data) != dtype.itemsize * count:
        raise WireError("array buffer has the wrong size")
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape).copy()


def write_frames(stream, frames):
    parts = [_LEN.pack(len(frames))]
    for f in frames:
        parts += (_LEN.pack(len(f)), f)
    stream.write(b"".join(parts))  # one write: one system call for small messages
    stream.flush()


def read_frames(stream, limit=MAX_FRAME, header_limit=MAX_HEADER, max_frames=MAX_FRAMES):
    """Read exactly one message and nothing after it: ``EOFError`` when the pipe closed,
    ``WireError`` when it is garbage or larger than ``limit`` bytes in all, or its JSON header
    larger than ``header_limit``. ``stream.read(n)`` may return fewer bytes than asked.

    Each read also takes the length field that follows (the message's layout says it is
    there), so a message of F frames costs F + 1 reads."""
    head = _read_up_to(stream, 2 * _LEN.size, at_least=_LEN.size)
    count = _LEN.unpack_from(head, 0)[0]
    if not 1 <= count <= max_frames:
        raise WireError(f"a message must have 1 to {max_frames} frames, not {count}")
    head += _read_exact(stream, 2 * _LEN.size - len(head)) if len(head) < 2 * _LEN.size else b""
    size = _LEN.unpack_from(head, _LEN.size)[0]
    frames, total = [], 0
    for i in range(count):
        if i == 0 and size > header_limit:
            raise WireError(f"message header larger than {header_limit} bytes")
        total += size
        if total > limit:
            raise WireError(f"message larger than {limit} bytes")
        last = i == count - 1
        chunk = _read_exact(stream, size + (0 if last else _LEN.size))
        if last:
            frames.append(chunk)
        else:
            frames.append(chunk[:size])
            size = _LEN.unpack_from(chunk, size)[0]
    return frames


def _read_up_to(stream, n, at_least):
    """Between ``at_least`` and ``n`` bytes (fewer only at the end of the stream: EOFError)."""
    buf = b""
    while len(buf) < at_least:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("channel closed")
        buf += chunk
    return buf


def _read_exact(stream, n):
    if n == 0:
        return b""
    buf, view, got = bytearray(n), None, 0
    view = memoryview(buf)
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError("channel closed")
        view[got : got + len(chunk)] = chunk
        got += len(chunk)
    return bytes(buf)
