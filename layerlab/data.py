"""Data sets for the assignments, and two small helpers.

* ``load_digits``: scikit-learn's 8x8 handwritten digits (1,797 images, bundled with
  scikit-learn, no download). The default data set of every assignment.
* ``load_mnist``, ``load_fashion_mnist``, ``load_cifar10``: the classic larger sets, downloaded
  once into a cache directory and checked against the SHA-256 sums in ``CHECKSUMS``.
* ``one_hot`` and ``batches``.

Every loader returns a ``DataSplits`` with float64 features scaled to [0, 1] and int64 labels,
split into train, validation and test sets; the split is stratified (every class keeps its
share in every part) and reproducible by ``seed``. With ``center=True`` the mean image of the
*training* set is subtracted from all three parts, so nothing about the validation or test
images leaks into the preprocessing; the subtracted mean is kept in ``DataSplits.mean``.

Where the downloads go and come from:

* cache directory: the ``cache_dir`` argument, else the ``LAYERLAB_DATA`` environment variable,
  else ``~/.cache/layerlab``; each data set has its own subdirectory (``mnist``,
  ``fashion-mnist``, ``cifar-10``).
* source: the ``base_url`` argument (the URL of the directory holding the files), else
  ``$LAYERLAB_MIRROR/<subdirectory>/``, else the official address in ``BASE_URLS``.
  ``file://`` URLs work too, e.g. for a copy on a shared drive.

A cached file is hashed on every load; a verified file is never downloaded again, a damaged
one is deleted and fetched anew. Downloads are written to a temporary file next to the target
and renamed into place only after their checksum matched.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

__all__ = [
    "BASE_URLS",
    "CHECKSUMS",
    "DataSplits",
    "DatasetUnavailable",
    "batches",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "one_hot",
]

DEFAULT_CACHE_DIR = Path("~/.cache/layerlab")
CACHE_ENV = "LAYERLAB_DATA"
MIRROR_ENV = "LAYERLAB_MIRROR"

# Official file names and the SHA-256 sums of the official files. The distribution pages give
# no SHA-256 (Fashion-MNIST and CIFAR-10 publish MD5 sums, e.g. CIFAR-10's
# c58f30108f718f92721af3b95e74349a); these are the sums that torchvision, TensorFlow and
# many other projects record independently for the same files.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    },
    "cifar-10": {
        "cifar-10-python.tar.gz": (
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
        ),
    },
}

BASE_URLS: dict[str, str] = {
    # PyTorch's mirror: yann.lecun.com no longer serves the files reliably.
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar-10": "https://www.cs.toronto.edu/~kriz/",
}

DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DatasetUnavailable(RuntimeError):
    """A data set could not be downloaded, verified or read; the message says what to do."""


@dataclass(frozen=True, eq=False)
class DataSplits:
    """Train, validation and test sets.

    ``X_*`` are float64 arrays of shape ``(N, D)`` (flattened) or ``(N, C, H, W)``; ``y_*`` are
    int64 arrays of shape ``(N,)`` with values in ``0 .. len(class_names) - 1``. ``mean`` is the
    training mean that was subtracted (shape ``X_train.shape[1:]``), or None. ``data["X_train"]``
    works like ``data.X_train``, so a ``DataSplits`` can stand in for the usual data dict.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    mean: np.ndarray | None = None

    _ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")

    def as_dict(self) -> dict[str, np.ndarray]:
        """The six arrays as a dict keyed ``X_train``, ``y_train``, ... ``y_test``."""
        return {name: getattr(self, name) for name in self._ARRAYS}

    def keys(self) -> tuple[str, ...]:
        return self._ARRAYS

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._ARRAYS:
            raise KeyError(f"{key!r}: a DataSplits holds {', '.join(self._ARRAYS)}")
        return getattr(self, key)

    def __repr__(self) -> str:
        parts = [
            f"{f.name}={getattr(self, f.name).shape}"
            for f in fields(self)
            if f.name.startswith(("X_", "y_"))
        ]
        return f"DataSplits({', '.join(parts)}, classes={len(self.class_names)})"


# ----------------------------------------------------------------------------- helpers


def one_hot(y, num_classes: int) -> np.ndarray:
    """Float64 array of shape ``(N, num_classes)`` with a single 1 per row at column ``y[i]``.

    ``y`` holds N integer labels in ``0 .. num_classes - 1``.
    """
    y = np.asarray(y)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
        raise ValueError(
            f"one_hot needs a 1-D array of integer labels; got shape {y.shape} of {y.dtype}."
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} for num_classes={num_classes}; "
            f"got values from {y.min()} to {y.max()}."
        )
    out = np.zeros((y.shape[0], num_classes), dtype=np.float64)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def batches(
    X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs covering ``X`` and ``y`` once.

    ``X`` has shape ``(N, ...)``, ``y`` shape ``(N,)``. The order is shuffled with ``rng``
    (a ``np.random.Generator``) or kept as is when ``rng`` is None; the last batch holds the
    remaining ``N % batch_size`` rows when N is not a multiple of ``batch_size``.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match.")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
    for start in range(0, len(X), int(batch_size)):
        idx = order[start : start + int(batch_size)]
        yield X[idx], y[idx]


# ----------------------------------------------------------------------------- splitting


def _check_fractions(**fractions: float) -> None:
    for name, value in fractions.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must lie in [0, 1); got {value}.")
    if sum(fractions.values()) >= 1.0:
        raise ValueError(
            f"{' + '.join(fractions)} must be below 1 so that training data remains; "
            f"got {sum(fractions.values())}."
        )


def _stratified_split(
    y: np.ndarray, fractions: Sequence[float], rng: np.random.Generator
) -> list[np.ndarray]:
    """Index arrays ``[rest, part_1, part_2, ...]``; part k holds ``round(f_k * n_c)`` of class c.

    Every part is shuffled, so classes are interleaved.
    """
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for k, frac in enumerate(fractions, start=1):
            stop = start + round(frac * len(idx))
            parts[k].append(idx[start:stop])
            start = stop
        parts[0].append(idx[start:])
    return [rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts]


def _finish(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    scale: float,
    flatten: bool,
    center: bool,
    class_names: tuple[str, ...],
    dtype,
) -> DataSplits:
    """Scale by ``1 / scale``, flatten or not, centre with the training mean only."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as np.float64; got {dtype}.")
    arrays = []
    for X in (X_train, X_val, X_test):
        X = np.asarray(X, dtype=dtype) / dtype.type(scale)
        arrays.append(X.reshape(len(X), math.prod(X.shape[1:])) if flatten else X)
    mean = None
    if center:
        mean = arrays[0].mean(axis=0)
        arrays = [X - mean for X in arrays]
    labels = [np.asarray(y, dtype=np.int64) for y in (y_train, y_val, y_test)]
    return DataSplits(
        arrays[0], labels[0], arrays[1], labels[1], arrays[2], labels[2], class_names, mean
    )


# ----------------------------------------------------------------------------- digits


def load_digits(
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    flatten: bool = True,
    *,
    center: bool = False,
) -> DataSplits:
    """scikit-learn's 8x8 digits (1,797 images of 0-9), split into train, validation and test.

    Pixels (0..16 in the source) are scaled to [0, 1]; with ``center=True`` the training mean
    is then subtracted from all three sets. The split is stratified by class and depends only
    on ``seed``. ``X_*`` have shape ``(N, 64)`` with ``flatten=True``, else ``(N, 1, 8, 8)``;
    with the default fractions N is about 1,257 / 270 / 270.
    """
    _check_fractions(val_fraction=val_fraction, test_fraction=test_fraction)
    images, y = _digits()
    images = images[:, None, :, :]
    rng = np.random.default_rng(seed)
    train, val, test = _stratified_split(y, (val_fraction, test_fraction), rng)
    return _finish(
        images[train],
        y[train],
        images[val],
        y[val],
        images[test],
        y[test],
        scale=16.0,
        flatten=flatten,
        center=center,
        class_names=DIGIT_NAMES,
        dtype=np.float64,
    )


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as scikit-learn ships them: images (1797, 8, 8) float64 in 0..16, labels
    (1797,) int64. Read from its data file directly: importing scikit-learn takes about 0.7 s,
    the file 0.03 s."""
    spec = importlib.util.find_spec("sklearn")
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0], "datasets", "data", "digits.csv.gz") if folders else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits as _sklearn_digits

        bunch = _sklearn_digits()
        return bunch.images, bunch.target
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)


# ----------------------------------------------------------------------------- downloads


def _cache_root(cache_dir) -> Path:
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return Path(cache_dir).expanduser()


def _base_url(dataset: str, base_url: str | None) -> str:
    if base_url is None:
        mirror = os.environ.get(MIRROR_ENV)
        base_url = f"{mirror.rstrip('/')}/{dataset}/" if mirror else BASE_URLS[dataset]
    return base_url if base_url.endswith("/") else base_url + "/"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, target: Path, expected: str) -> None:
    """Stream ``url`` to a temporary file beside ``target``; rename it once its hash matches."""
    import http.client  # here, not at the top: the grader imports this module per submission
    import urllib.error
    import urllib.request

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                is_http = isinstance(exc, urllib.error.HTTPError)
                reason = exc if is_http else getattr(exc, "reason", None) or exc
                raise DatasetUnavailable(
                    f"Could not download {url} ({reason}); check your internet connection, "
                    f"or copy {target.name} into {target.parent} by hand, or set "
                    f"{MIRROR_ENV} to a reachable mirror."
                ) from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise DatasetUnavailable(
                f"The file downloaded from {url} has SHA-256 {actual}, not the expected "
                f"{expected}, so it was discarded; the server sent a damaged or different "
                f"file: try again later or set {MIRROR_ENV} to another mirror."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(dataset: str, filename: str, cache_dir, base_url: str | None) -> Path:
    """Path of a verified copy of ``filename``, downloading it only if no valid copy is cached."""
    expected = CHECKSUMS[dataset][filename]
    folder = _cache_root(cache_dir) / dataset
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetUnavailable(
            f"Cannot create the cache directory {folder} ({exc.strerror or exc}); pass "
            f"cache_dir= or set {CACHE_ENV} to a writable directory."
        ) from exc
    target = folder / filename
    if target.is_file():
        if _sha256(target) == expected:
            return target
        target.unlink()  # damaged or truncated: fetch a fresh copy below
    url = _base_url(dataset, base_url) + filename
    print(f"Downloading {url} into {folder} (once) ...", file=sys.stderr, flush=True)
    _download(url, target, expected)
    return target


# ----------------------------------------------------------------------------- file formats

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_idx_gz(path: Path) -> np.ndarray:
    """Array stored in a gzipped IDX file (the MNIST format: magic, big-endian dims, data)."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetUnavailable(
            f"{path} is not a readable gzip file ({exc}); delete it and load again."
        ) from exc
    ndim = raw[3] if len(raw) >= 4 else 0
    if len(raw) < 4 + 4 * ndim or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise DatasetUnavailable(
            f"{path} is not an IDX file (bad magic number); delete it and load again."
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)) * dtype.itemsize:
        raise DatasetUnavailable(
            f"{path} holds {len(raw) - offset} data bytes but its header announces shape "
            f"{dims}; delete it and load again."
        )
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(dims)


def _load_idx_dataset(
    dataset: str,
    class_names: tuple[str, ...],
    val_fraction: float,
    seed: int,
    flatten: bool,
    center: bool,
    cache_dir,
    base_url: str | None,
    dtype,
) -> DataSplits:
    _check_fractions(val_fraction=val_fraction)
    arrays = {}
    for prefix in ("train", "t10k"):
        for kind, idx in (("images", 3), ("labels", 1)):
            name = f"{prefix}-{kind}-idx{idx}-ubyte.gz"
            arrays[prefix, kind] = _read_idx_gz(_fetch(dataset, name, cache_dir, base_url))
    images, labels = arrays["train", "images"], arrays["train", "labels"]
    train, val = _stratified_split(labels, (val_fraction,), np.random.default_rng(seed))
    return _finish(
        images[train, None],
        labels[train],
        images[val, None],
        labels[val],
        arrays["t10k", "images"][:, None],
        arrays["t10k", "labels"],
        scale=255.0,
        flatten=flatten,
        center=center,
        class_names=class_names,
        dtype=dtype,
    )


def load_mnist(
    val_fraction: float = 1 / 12,
    seed: int = 0,
    flatten: bool = True,
    *,
    center: bool = False,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    dtype=np.float64,
) -> DataSplits:
    """MNIST handwritten digits, downloaded once (about 11 MB) into the cache directory.

    The official 60,000 training images are split (stratified, by ``seed``) into train and
    validation; the official 10,000 test images are the test set. ``X_*`` have shape
    ``(N, 784)`` or, with ``flatten=False``, ``(N, 1, 28, 28)``; pixels are scaled to [0, 1].
    In float64 the arrays take about 440 MB; ``dtype=np.float32`` halves that.
    Raises ``DatasetUnavailable`` when the files can neither be found nor downloaded.
    """
    return _load_idx_dataset(
        "mnist", DIGIT_NAMES, val_fraction, seed, flatten, center, cache_dir, base_url, dtype
    )


def load_fashion_mnist(
    val_fraction: float = 1 / 12,
    seed: int = 0,
    flatten: bool = True,
    *,
    center: bool = False,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    dtype=np.float64,
) -> DataSplits:
    """Zalando's Fashion-MNIST (10 kinds of clothing), in the same layout as ``load_mnist``.

    Downloads about 30 MB once; shapes ``(N, 784)`` or ``(N, 1, 28, 28)``, pixels in [0, 1].
    """
    return _load_idx_dataset(
        "fashion-mnist",
        FASHION_NAMES,
        val_fraction,
        seed,
        flatten,
        center,
        cache_dir,
        base_url,
        dtype,
    )


def _read_cifar_tar(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple]:
    """``(X_train, y_train, X_test, y_test, label_names)`` from ``cifar-10-python.tar.gz``.

    Images come out as uint8 of shape ``(N, 3, 32, 32)``, labels as int64 of shape ``(N,)``.
    """
    import pickle
    import tarfile

    train_batches = []
    test = names = None
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if not member.isfile() or not (
                base.startswith("data_batch_") or base in ("test_batch", "batches.meta")
            ):
                continue
            # Unpickling runs code chosen by whoever wrote the file. It is acceptable here only
            # because _fetch verified the archive's SHA-256 against the official value first.
            with tar.extractfile(member) as f:
                content = pickle.load(f, encoding="bytes")
            if base == "batches.meta":
                names = tuple(n.decode() for n in content[b"label_names"])
                continue
            X = np.asarray(content[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            y = np.asarray(content[b"labels"], dtype=np.int64)
            if base == "test_batch":
                test = (X, y)
            else:
                train_batches.append((base, X, y))
    if not train_batches or test is None or names is None:
        raise DatasetUnavailable(
            f"{path} lacks the data_batch_*, test_batch or batches.meta members of the "
            "CIFAR-10 python archive; delete it and load again."
        )
    train_batches.sort(key=lambda item: item[0])
    X_train = np.concatenate([x for _, x, _ in train_batches])
    y_train = np.concatenate([y for _, _, y in train_batches])
    return X_train, y_train, test[0], test[1], names


def load_cifar10(
    val_fraction: float = 0.1,
    seed: int = 0,
    flatten: bool = True,
    *,
    center: bool = False,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    dtype=np.float64,
) -> DataSplits:
    """CIFAR-10 (32x32 colour images, 10 classes), downloaded once (about 163 MB).

    The official 50,000 training images are split into train and validation, the 10,000 test
    images are the test set. ``X_*`` have shape ``(N, 3072)`` (channel-major: all red, then
    green, then blue values) or ``(N, 3, 32, 32)``; pixels are scaled to [0, 1]. In float64 the
    arrays take about 1.5 GB; ``dtype=np.float32`` halves that.
    """
    _check_fractions(val_fraction=val_fraction)
    path = _fetch("cifar-10", "cifar-10-python.tar.gz", cache_dir, base_url)
    X, y, X_test, y_test, names = _read_cifar_tar(path)
    train, val = _stratified_split(y, (val_fraction,), np.random.default_rng(seed))
    return _finish(
        X[train],
        y[train],
        X[val],
        y[val],
        X_test,
        y_test,
        scale=255.0,
        flatten=flatten,
        center=center,
        class_names=names,
        dtype=dtype,
    )
