"""coursekit.data: the digits default, IDX parsing, MNIST-style download and cache, batches."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import struct
import urllib.error

import numpy as np
import pytest
import torch

from coursekit import data as D
from coursekit import idx

# ------------------------------------------------------------------ digits


def test_digits_split_sizes_types_and_range(digits):
    assert (len(digits.y_train), len(digits.y_val), len(digits.y_test)) == (1077, 360, 360)
    for x in (digits.x_train, digits.x_val, digits.x_test):
        assert x.dtype == torch.float32 and x.shape[1] == 64
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    for y in (digits.y_train, digits.y_val, digits.y_test):
        assert y.dtype == torch.int64
    assert digits.n_features == 64 and digits.n_classes == 10 and digits.image_shape == (8, 8)


def test_digits_split_is_deterministic_and_stratified():
    a, b = D.load_digits(), D.load_digits()
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    c = D.load_digits(seed=1)
    assert not torch.equal(a.y_train, c.y_train)
    counts = torch.bincount(a.y_val, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37  # 360 / 10 = 36 each


def test_digits_splits_do_not_overlap(digits):
    rows = lambda x: {tuple(r) for r in x.numpy().round(4)}  # noqa: E731
    # digits has a few duplicate images, so compare counts rather than demand disjoint sets
    total = len(digits.y_train) + len(digits.y_val) + len(digits.y_test)
    assert total == 1797
    assert len(rows(digits.x_val) & rows(digits.x_test)) < 5


def test_subset_keeps_class_shares_and_other_splits(digits):
    small = digits.subset(100, seed=3)
    assert len(small.y_train) == 100
    counts = torch.bincount(small.y_train, minlength=10)
    assert int(counts.min()) >= 9 and int(counts.max()) <= 11
    assert torch.equal(small.x_val, digits.x_val)
    assert torch.equal(small.x_train, digits.subset(100, seed=3).x_train)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"val_fraction": 0.0}, ValueError, "val_fraction"),
    ({"test_fraction": 0.7}, ValueError, "test_fraction"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
])
def test_load_digits_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        D.load_digits(**kwargs)


def test_load_dispatches_by_name_and_rejects_unknown(digits):
    assert torch.equal(D.load("digits").x_train, digits.x_train)
    assert torch.equal(D.load("DIGITS").x_train, digits.x_train)
    with pytest.raises(ValueError, match="unknown name 'cifar'.*digits, mnist, fashion-mnist"):
        D.load("cifar")
    with pytest.raises(TypeError, match="name must be a string"):
        D.load(3)


# ------------------------------------------------------------------ IDX files

def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_read_idx_roundtrip_raw_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "raw.idx").write_bytes(idx_bytes(images))
    (tmp_path / "z.idx.gz").write_bytes(gzip.compress(idx_bytes(images)))
    assert np.array_equal(D.read_idx(tmp_path / "raw.idx"), images)
    assert np.array_equal(D.read_idx(tmp_path / "z.idx.gz"), images)
    ints = np.array([1, -2, 300], dtype=np.int32)
    (tmp_path / "i.idx").write_bytes(idx_bytes(ints))
    assert np.array_equal(D.read_idx(tmp_path / "i.idx"), ints)


def test_read_idx_rejects_bad_magic_and_truncated_payload(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(tmp_path / "bad")
    good = idx_bytes(np.zeros((2, 2, 2), dtype=np.uint8))
    (tmp_path / "short").write_bytes(good[:-3])
    with pytest.raises(ValueError, match="header says shape"):
        D.read_idx(tmp_path / "short")
    (tmp_path / "badgz").write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match="corrupt gzip"):
        D.read_idx(tmp_path / "badgz")


# ------------------------------------------------------------------ MNIST-style download

def fake_mnist_files(n_train=12, n_test=5):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test) % 10).astype(np.uint8),
    }
    return {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}, arrays


@pytest.fixture
def fake_source(monkeypatch):
    """Point the MNIST source at small fake files and serve them from a fake _fetch."""
    payloads, arrays = fake_mnist_files()
    md5 = {name: hashlib.md5(p).hexdigest() for name, p in payloads.items()}
    monkeypatch.setitem(D.SOURCES, "mnist", {"mirrors": ("https://mirror.invalid/",), "md5": md5})
    calls = []

    def fetch(url, timeout=60.0):
        calls.append(url)
        return payloads[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(idx, "_fetch", fetch)
    return payloads, arrays, calls


def test_load_mnist_downloads_verifies_parses_and_caches(tmp_path, fake_source):
    payloads, arrays, calls = fake_source
    ds = D.load_mnist(root=tmp_path, val_size=2)
    assert len(calls) == 4
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (10, 2, 5)
    assert ds.n_features == 784 and ds.image_shape == (28, 28) and ds.x_train.dtype == torch.float32
    assert float(ds.x_test.max()) <= 1.0
    expected = arrays["t10k-images-idx3-ubyte.gz"].reshape(5, -1) / 255.0
    assert np.allclose(ds.x_test.numpy(), expected)
    # second call: served from the cache, no new download
    D.load_mnist(root=tmp_path, val_size=2)
    assert len(calls) == 4
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(payloads)


def test_corrupted_cached_file_is_detected_and_replaced(tmp_path, fake_source):
    payloads, _, calls = fake_source
    D.load_mnist(root=tmp_path, val_size=2)
    target = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    target.write_bytes(b"garbage")
    ds = D.load_mnist(root=tmp_path, val_size=2)
    assert len(calls) == 5 and target.read_bytes() == payloads[target.name]
    assert (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz.corrupt").exists()
    assert len(ds.y_train) == 10


def test_download_with_wrong_checksum_leaves_no_file(tmp_path, fake_source, monkeypatch):
    monkeypatch.setattr(idx, "_fetch", lambda url, timeout=60.0: b"truncated download")
    with pytest.raises(D.DatasetUnavailableError, match="checksum"):
        D.load_mnist(root=tmp_path)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_interrupted_write_leaves_no_half_file(tmp_path, monkeypatch):
    target = tmp_path / "file.gz"

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(D.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        idx._atomic_write(target, b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_names_folder_and_the_four_files(tmp_path, fake_source, monkeypatch):
    def offline(url, timeout=60.0):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(idx, "_fetch", offline)
    with pytest.raises(D.DatasetUnavailableError) as err:
        D.load_mnist(root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "mnist") in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in message


def test_download_false_never_fetches(tmp_path, monkeypatch):
    monkeypatch.setattr(idx, "_fetch", lambda *a, **k: pytest.fail("fetched although download=False"))
    with pytest.raises(D.DatasetUnavailableError, match="missing"):
        D.load_fashion_mnist(root=tmp_path, download=False)


def test_cache_dir_follows_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "here"))
    assert D.default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("COURSEKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert D.default_cache_dir() == tmp_path / "coursekit"


def test_real_fetch_is_blocked_by_the_test_network_guard(tmp_path):
    with pytest.raises(Exception) as err:
        idx._fetch("https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz", timeout=1)
    assert "network" in str(err.value).lower()


def test_load_mnist_validates_arguments(tmp_path, fake_source):
    with pytest.raises(TypeError, match="download must be True or False"):
        D.load_mnist(root=tmp_path, download="yes")
    with pytest.raises(ValueError, match="val_size"):
        D.load_mnist(root=tmp_path, val_size=100)


# ------------------------------------------------------------------ batches

def test_batches_cover_every_example_once_and_are_seeded():
    x = torch.arange(23, dtype=torch.float32).unsqueeze(1)
    y = torch.arange(23)
    out = list(D.batches(x, y, 5, generator=torch.Generator().manual_seed(1)))
    assert [len(b[1]) for b in out] == [5, 5, 5, 5, 3]
    seen = torch.cat([b[1] for b in out])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    assert all(torch.equal(bx.squeeze(1).long(), by) for bx, by in out)
    again = list(D.batches(x, y, 5, generator=torch.Generator().manual_seed(1)))
    assert torch.equal(torch.cat([b[1] for b in again]), seen)
    assert [len(b[1]) for b in D.batches(x, y, 5, drop_last=True)] == [5, 5, 5, 5]
    assert torch.equal(torch.cat([b[1] for b in D.batches(x, y, 4, shuffle=False)]), y)


@pytest.mark.parametrize("args, exc, match", [
    ((torch.zeros(3, 2), torch.zeros(4), 2), ValueError, "same number of examples"),
    ((torch.zeros(3, 2), torch.zeros(3), 0), ValueError, "batch_size must be >= 1"),
    ((np.zeros((3, 2)), torch.zeros(3), 2), TypeError, "x must be a torch.Tensor"),
])
def test_batches_reject_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        list(D.batches(*args))


# ------------------------------------------------------------------ faults: a DatasetUnavailableError or a named ValueError

def test_read_idx_corrupt_gzip_body_is_a_value_error_naming_the_file(tmp_path):
    payload = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10))))
    payload[10] = 0xFF  # the gzip header is intact, the deflate block type is invalid (a raw zlib.error before)
    (tmp_path / "body.gz").write_bytes(bytes(payload))
    with pytest.raises(ValueError, match=r"body.gz: corrupt gzip stream"):
        D.read_idx(tmp_path / "body.gz")


def test_read_idx_huge_header_reports_the_true_byte_count(tmp_path):
    header = bytes([0, 0, 0x08, 3]) + b"".join(struct.pack(">I", 2**31) for _ in range(3))
    (tmp_path / "huge").write_bytes(header + b"\x00" * 8)
    with pytest.raises(ValueError, match=r"huge: IDX header says shape .* \((\d+) bytes\)") as err:
        D.read_idx(tmp_path / "huge")
    assert f"({2**93} bytes)" in str(err.value)  # no int64 overflow into a negative count


@pytest.mark.parametrize("fault", [
    http.client.IncompleteRead(b"partial", 100),
    ValueError("unknown url type"),
    TimeoutError("timed out"),
    ConnectionResetError("reset by peer"),
])
def test_a_network_fault_on_one_file_is_reported_and_the_other_files_are_still_tried(tmp_path, fake_source,
                                                                                   monkeypatch, fault):
    payloads, _, calls = fake_source

    def flaky(url, timeout=60.0):
        calls.append(url)
        if url.endswith("train-labels-idx1-ubyte.gz"):
            raise fault
        return payloads[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(idx, "_fetch", flaky)
    with pytest.raises(D.DatasetUnavailableError, match=rf"train-labels-idx1-ubyte.gz could not be downloaded "
                                                         rf".*{type(fault).__name__}"):
        D.load_mnist(root=tmp_path)
    assert len(calls) == 4  # every file was tried
    kept = sorted(p.name for p in (tmp_path / "mnist").iterdir())
    assert kept == sorted(n for n in payloads if n != "train-labels-idx1-ubyte.gz")


def test_an_uncreatable_cache_folder_is_a_dataset_unavailable_error(tmp_path, fake_source, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(D.Path, "mkdir", refuse)
    with pytest.raises(D.DatasetUnavailableError, match=r"cannot be created .*Permission denied"):
        D.load_mnist(root=tmp_path / "read-only")
    # download=False never creates the folder: the files are simply missing
    with pytest.raises(D.DatasetUnavailableError, match=r"is missing"):
        D.load_mnist(root=tmp_path / "read-only", download=False)


def test_a_download_that_cannot_be_saved_is_a_dataset_unavailable_error(tmp_path, fake_source, monkeypatch):
    def full(path, payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(idx, "_atomic_write", full)
    with pytest.raises(D.DatasetUnavailableError, match=r"was downloaded but cannot be saved .*No space left"):
        D.load_mnist(root=tmp_path)


def test_a_corrupt_copy_that_cannot_be_moved_aside_is_reported(tmp_path, fake_source, monkeypatch):
    D.load_mnist(root=tmp_path, val_size=2)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")

    def refuse(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(D.Path, "replace", refuse)
    with pytest.raises(D.DatasetUnavailableError, match=r"wrong checksum and cannot be moved aside.*delete it"):
        D.load_mnist(root=tmp_path, download=False)


def test_ctrl_c_during_a_download_leaves_no_file_and_propagates(tmp_path, fake_source, monkeypatch):
    def interrupted(url, timeout=60.0):
        raise KeyboardInterrupt

    monkeypatch.setattr(idx, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        D.load_mnist(root=tmp_path)
    assert list((tmp_path / "mnist").iterdir()) == []


# ------------------------------------------------------ files that do not fit together, a file as root, devices

def _serve(monkeypatch, arrays):
    """Point the MNIST source at these arrays (as gzipped IDX files) and serve them from a fake _fetch."""
    payloads = {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}
    md5 = {name: hashlib.md5(p).hexdigest() for name, p in payloads.items()}
    monkeypatch.setitem(D.SOURCES, "mnist", {"mirrors": ("https://mirror.invalid/",), "md5": md5})
    monkeypatch.setattr(idx, "_fetch", lambda url, timeout=60.0: payloads[url.rsplit("/", 1)[1]])


def test_train_and_test_images_of_different_sizes_are_refused_naming_both_files(tmp_path, monkeypatch):
    _, arrays = fake_mnist_files()
    arrays["train-images-idx3-ubyte.gz"] = np.zeros((12, 4, 4), dtype=np.uint8)
    arrays["t10k-images-idx3-ubyte.gz"] = np.zeros((5, 3, 3), dtype=np.uint8)
    _serve(monkeypatch, arrays)
    with pytest.raises(ValueError, match=r"the files in .*mnist do not fit together: train-images-idx3-ubyte.gz "
                                         r"holds 4x4 images but t10k-images-idx3-ubyte.gz 3x3"):
        D.load_mnist(root=tmp_path, val_size=2)


def test_labels_outside_the_data_sets_classes_are_refused_naming_the_file(tmp_path, monkeypatch):
    _, arrays = fake_mnist_files()
    arrays["train-labels-idx1-ubyte.gz"] = (np.arange(12) * 23 % 256).astype(np.uint8)  # up to 253
    _serve(monkeypatch, arrays)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz has labels from 0 to 253; mnist has 10 "
                                         r"classes, labels 0 to 9"):
        D.load_mnist(root=tmp_path, val_size=2)


def test_images_and_labels_of_different_counts_are_refused_naming_the_files(tmp_path, monkeypatch):
    _, arrays = fake_mnist_files()
    arrays["t10k-labels-idx1-ubyte.gz"] = np.zeros(4, dtype=np.uint8)
    _serve(monkeypatch, arrays)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz holds 5 images but t10k-labels-idx1-ubyte.gz "
                                         r"4 labels"):
        D.load_mnist(root=tmp_path, val_size=2)


def test_a_file_as_root_is_named_as_a_file_not_a_folder(tmp_path, fake_source):
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder")
    for download in (True, False):
        with pytest.raises(ValueError, match=r"root must be a folder; got '.*notes.txt', which is a file") as err:
            D.load_mnist(root=afile, download=download)
        assert "notes.txt/mnist" not in str(err.value)


def test_dataset_to_a_device_this_torch_lacks_names_the_argument_and_what_is_available(digits, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(ValueError) as err:
        digits.to("cuda")
    message = str(err.value)
    assert message.startswith("device='cuda', but this PyTorch (") and "is a CPU-only build" in message
    assert "available here: cpu" in message and "`make lab TORCH=cuda`" in message
    with pytest.raises(ValueError, match=r"device must be a device name such as 'cpu', 'cuda' or 'cuda:0'; got 'gpu'"):
        digits.to("gpu")
    with pytest.raises(TypeError, match=r"device must be a device name .* got int 3"):
        digits.to(3)
    assert torch.equal(digits.to("cpu").x_train, digits.x_train)
