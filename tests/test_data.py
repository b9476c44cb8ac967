"""layerlab.data: digits splits, helpers, and the download loaders against local mirrors."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import pickle
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from layerlab import data
from layerlab.data import DatasetUnavailable

IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
N_TRAIN, N_TEST = 120, 30  # 12 and 3 examples per class


# ----------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_scaling():
    d = data.load_digits()
    n = len(d.X_train) + len(d.X_val) + len(d.X_test)
    assert n == 1797
    assert d.X_train.shape[1:] == (64,)
    for X, y in ((d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)):
        assert X.dtype == np.float64 and y.dtype == np.int64
        assert X.min() >= 0.0 and X.max() <= 1.0
        assert len(X) == len(y)
    assert d.X_train.max() == 1.0
    assert d.mean is None
    assert d.class_names == tuple("0123456789")


def test_digits_are_scikit_learns_read_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, labels = data._digits()
    assert images.dtype == np.float64 and labels.dtype == np.int64
    assert np.array_equal(images, bunch.images) and np.array_equal(labels, bunch.target)
    code = (
        "import sys; from layerlab.data import load_digits; load_digits(); "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_digits_split_sizes_follow_fractions():
    d = data.load_digits(val_fraction=0.2, test_fraction=0.1)
    assert abs(len(d.X_val) - 0.2 * 1797) <= 10
    assert abs(len(d.X_test) - 0.1 * 1797) <= 10
    d0 = data.load_digits(val_fraction=0.0, test_fraction=0.25)
    assert len(d0.X_val) == 0 and abs(len(d0.X_test) - 0.25 * 1797) <= 10


def test_digits_split_is_stratified():
    d = data.load_digits(val_fraction=0.2, test_fraction=0.2, seed=3)
    overall = np.bincount(np.concatenate([d.y_train, d.y_val, d.y_test]), minlength=10)
    for y in (d.y_train, d.y_val, d.y_test):
        share = np.bincount(y, minlength=10) / len(y)
        assert np.allclose(share, overall / overall.sum(), atol=0.01)


def test_digits_split_disjoint_and_reproducible():
    a, b = data.load_digits(seed=1), data.load_digits(seed=1)
    for key in a.keys():
        np.testing.assert_array_equal(a[key], b[key])
    c = data.load_digits(seed=2)
    assert not np.array_equal(a.y_train, c.y_train)
    rows = {tuple(x) for x in np.concatenate([a.X_train, a.X_val, a.X_test])}
    assert len(rows) > 1700  # a few digits are exact duplicates in the source data


def test_digits_unflattened_and_centred_with_train_mean():
    d = data.load_digits(flatten=False, center=True)
    assert d.X_train.shape[1:] == (1, 8, 8)
    assert d.mean.shape == (1, 8, 8)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-12)
    raw = data.load_digits(flatten=False)
    np.testing.assert_allclose(d.mean, raw.X_train.mean(axis=0))
    np.testing.assert_allclose(d.X_val, raw.X_val - raw.X_train.mean(axis=0))
    assert not np.allclose(d.X_val.mean(axis=0), 0.0, atol=1e-3)


def test_digits_as_dict_and_bad_fractions():
    d = data.load_digits()
    assert set(d.as_dict()) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}
    with pytest.raises(KeyError, match="X_train"):
        d["X_training"]
    with pytest.raises(ValueError, match="below 1"):
        data.load_digits(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        data.load_digits(val_fraction=-0.1)


# ----------------------------------------------------------------------------- helpers


def test_one_hot():
    out = data.one_hot(np.array([2, 0, 1]), 4)
    assert out.dtype == np.float64 and out.shape == (3, 4)
    np.testing.assert_array_equal(out.argmax(axis=1), [2, 0, 1])
    assert out.sum() == 3
    with pytest.raises(ValueError, match="0..3"):
        data.one_hot(np.array([4]), 4)
    with pytest.raises(ValueError, match="integer"):
        data.one_hot(np.array([0.5]), 4)


def test_batches_cover_everything_once():
    X = np.arange(23.0)[:, None]
    y = np.arange(23)
    parts = list(data.batches(X, y, 5, np.random.default_rng(0)))
    assert [len(xb) for xb, _ in parts] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in parts])
    assert sorted(seen) == list(range(23)) and not np.array_equal(seen, y)
    for xb, yb in parts:
        np.testing.assert_array_equal(xb[:, 0], yb)
    in_order = np.concatenate([yb for _, yb in data.batches(X, y, 10)])
    np.testing.assert_array_equal(in_order, y)
    with pytest.raises(ValueError, match="rows"):
        next(data.batches(X, y[:-1], 5))


# ----------------------------------------------------------------------------- synthetic files


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def _write_idx_set(folder: Path, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.repeat(np.arange(10, dtype=np.uint8), N_TRAIN // 10),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.repeat(np.arange(10, dtype=np.uint8), N_TEST // 10),
    }
    folder.mkdir(parents=True)
    for name, array in arrays.items():
        (folder / name).write_bytes(_idx_bytes(array))
    return arrays


def _pickled(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


def _write_cifar(folder: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    train_x = rng.integers(0, 256, (100, 3072), dtype=np.uint8)
    train_y = np.tile(np.arange(10), 10)
    test_x = rng.integers(0, 256, (20, 3072), dtype=np.uint8)
    test_y = np.tile(np.arange(10), 2)
    members = {
        "batches.meta": {b"label_names": [f"class{k}".encode() for k in range(10)]},
        "test_batch": {b"data": test_x, b"labels": test_y.tolist()},
    }
    for b in range(5):
        rows = slice(20 * b, 20 * (b + 1))
        members[f"data_batch_{b + 1}"] = {b"data": train_x[rows], b"labels": train_y[rows].tolist()}
    folder.mkdir(parents=True)
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
        for name, content in members.items():
            raw = _pickled(content)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def _sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A directory laid out like a LAYERLAB_MIRROR: <root>/<dataset>/<official file name>."""
    root = tmp_path_factory.mktemp("mirror")
    originals = {
        "mnist": _write_idx_set(root / "mnist", seed=0),
        "fashion-mnist": _write_idx_set(root / "fashion-mnist", seed=1),
        "cifar-10": _write_cifar(root / "cifar-10"),
    }
    sums = {name: _sums(root / name) for name in originals}
    return root, sums, originals


@pytest.fixture
def sums(mirror, monkeypatch):
    """Point the checksum table at the synthetic files."""
    _, table, _ = mirror
    for name, files in table.items():
        monkeypatch.setitem(data.CHECKSUMS, name, dict(files))
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    return table


@pytest.fixture
def server(mirror):
    """An http.server on 127.0.0.1 serving the mirror; ``.requests`` lists requested paths."""
    root, _, _ = mirror
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.requests = requests
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- loaders


def test_mnist_from_file_url(mirror, sums, tmp_path):
    root, _, originals = mirror
    d = data.load_mnist(
        val_fraction=0.25, cache_dir=tmp_path, base_url=(root / "mnist").as_uri(), seed=0
    )
    assert d.X_train.shape == (90, 784) and d.X_val.shape == (30, 784)
    assert d.X_test.shape == (30, 784) and d.y_test.dtype == np.int64
    assert np.bincount(d.y_val).tolist() == [3] * 10
    assert d.X_train.dtype == np.float64 and 0.0 <= d.X_train.min() and d.X_train.max() <= 1.0
    np.testing.assert_allclose(
        d.X_test, originals["mnist"]["t10k-images-idx3-ubyte.gz"].reshape(N_TEST, -1) / 255.0
    )
    np.testing.assert_array_equal(d.y_test, originals["mnist"]["t10k-labels-idx1-ubyte.gz"])
    assert _leftovers(tmp_path) == sorted(IDX_FILES)


def test_fashion_mnist_via_mirror_env_and_cache_env(mirror, sums, server, tmp_path, monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, server.url)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    d = data.load_fashion_mnist(flatten=False, center=True)
    assert d.X_train.shape[1:] == (1, 28, 28) and d.mean.shape == (1, 28, 28)
    assert d.class_names[0] == "T-shirt/top"
    assert sorted(server.requests) == sorted(f"/fashion-mnist/{f}" for f in IDX_FILES)
    assert (tmp_path / "fashion-mnist" / IDX_FILES[0]).is_file()


def test_cached_files_are_not_fetched_again(sums, server, tmp_path):
    first = data.load_mnist(cache_dir=tmp_path, base_url=f"{server.url}/mnist/")
    assert len(server.requests) == 4
    second = data.load_mnist(cache_dir=tmp_path, base_url=f"{server.url}/mnist/")
    assert len(server.requests) == 4
    np.testing.assert_array_equal(first.X_train, second.X_train)


def test_corrupt_cached_file_is_replaced(sums, server, tmp_path):
    cached = tmp_path / "mnist" / IDX_FILES[1]
    cached.parent.mkdir()
    cached.write_bytes(b"truncated")
    data.load_mnist(cache_dir=tmp_path, base_url=f"{server.url}/mnist/")
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == sums["mnist"][IDX_FILES[1]]
    assert len(server.requests) == 4


def test_checksum_mismatch_is_a_clear_error_and_leaves_nothing(sums, server, tmp_path, monkeypatch):
    monkeypatch.setitem(data.CHECKSUMS["mnist"], IDX_FILES[0], "0" * 64)
    expected = r"SHA-256 [0-9a-f]{64}, not the expected 0{64}, so it was discarded"
    with pytest.raises(DatasetUnavailable, match=expected):
        data.load_mnist(cache_dir=tmp_path, base_url=f"{server.url}/mnist/")
    assert _leftovers(tmp_path) == []


def test_offline_is_a_clear_error(sums, tmp_path):
    with pytest.raises(DatasetUnavailable, match=r"Could not download .*internet connection"):
        data.load_mnist(cache_dir=tmp_path, base_url="http://127.0.0.1:9/")
    assert _leftovers(tmp_path) == []


def test_missing_file_on_mirror_is_a_clear_error(sums, server, tmp_path):
    with pytest.raises(DatasetUnavailable, match="404"):
        data.load_mnist(cache_dir=tmp_path, base_url=f"{server.url}/nowhere/")
    with pytest.raises(DatasetUnavailable, match="Could not download"):
        data.load_cifar10(cache_dir=tmp_path, base_url=(tmp_path / "absent").as_uri())
    assert _leftovers(tmp_path) == []


def test_bad_idx_header_is_reported(mirror, sums, tmp_path, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in IDX_FILES:
        (bad / name).write_bytes(gzip.compress(b"\x01\x02\x03\x04rest"))
    monkeypatch.setitem(data.CHECKSUMS, "mnist", _sums(bad))
    with pytest.raises(DatasetUnavailable, match="not an IDX file"):
        data.load_mnist(cache_dir=tmp_path / "cache", base_url=bad.as_uri())


def test_cifar10_from_local_http(mirror, sums, server, tmp_path):
    _, _, originals = mirror
    cifar = originals["cifar-10"]
    d = data.load_cifar10(val_fraction=0.2, cache_dir=tmp_path, base_url=f"{server.url}/cifar-10")
    assert d.X_train.shape == (80, 3072) and d.X_val.shape == (20, 3072)
    assert d.class_names == tuple(f"class{k}" for k in range(10))
    np.testing.assert_allclose(d.X_test, cifar["test_x"] / 255.0)
    np.testing.assert_array_equal(d.y_test, cifar["test_y"])
    image = data.load_cifar10(
        val_fraction=0.2, flatten=False, cache_dir=tmp_path, base_url=f"{server.url}/cifar-10"
    )
    assert image.X_test.shape == (20, 3, 32, 32)
    # channel-major rows: the first 1024 values are the red plane
    np.testing.assert_allclose(image.X_test[0, 0].ravel(), cifar["test_x"][0, :1024] / 255.0)
    assert server.requests == ["/cifar-10/cifar-10-python.tar.gz"]


def test_real_checksum_table_is_complete():
    for dataset, files in data.CHECKSUMS.items():
        assert dataset in data.BASE_URLS
        for name, digest in files.items():
            assert len(digest) == 64 and int(digest, 16) >= 0, name
    assert set(data.CHECKSUMS["mnist"]) == set(IDX_FILES)
    assert set(data.CHECKSUMS["fashion-mnist"]) == set(IDX_FILES)
