"""IDX files, the format of MNIST and Fashion-MNIST: reading them, downloading them safely, checking them.

``coursekit.data.load_mnist`` and ``load_fashion_mnist`` build a :class:`coursekit.data.Dataset`
from what this module reads. A download goes to a temporary file in the same folder and is
renamed only once its MD5 checksum is right, so an interrupted download never leaves a file
that looks valid. :func:`_fetch` is the one place that touches the network.

Introduced in ``notebooks/00_start_here.ipynb`` (switching to MNIST).
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ._i18n import _

__all__ = ["read_idx", "default_cache_dir", "ensure_files", "check_idx_files", "SOURCES", "MNIST_FILES",
           "DatasetUnavailableError"]


class DatasetUnavailableError(RuntimeError):
    """Raised when a data set is neither in the cache nor downloadable."""


# --------------------------------------------------------------------------- IDX files

_IDX_DTYPES = {
    0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an IDX file (the MNIST format), gzip-compressed or not, into a numpy array.

    Args:
        path: the ``.gz`` or raw IDX file.

    Returns:
        An array whose shape and dtype come from the file's header.

    Raises:
        ValueError: if the header is not IDX or the payload size does not match it.

    Introduced in ``notebooks/00_start_here.ipynb`` (switching to MNIST).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path.name}: corrupt gzip stream ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path.name}: not an IDX file (bad magic number {raw[:4].hex()})")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path.name}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge header cannot overflow
    if len(raw) - header != expected:
        raise ValueError(
            f"{path.name}: IDX header says shape {shape} ({expected} bytes) "
            f"but the file holds {len(raw) - header} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


# ------------------------------------------------------------------ MNIST-style data sets

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

#: Where each data set is fetched from and the MD5 of each file (the values
#: torchvision checks too). MD5 guards against truncated or corrupted
#: downloads; it is not a security measure.
SOURCES = {
    "mnist": {
        "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        "md5": dict(zip(MNIST_FILES, (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ))),
    },
    "fashion-mnist": {
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "md5": dict(zip(MNIST_FILES, (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ))),
    },
}


def default_cache_dir() -> Path:
    """Folder where downloaded data sets are kept.

    ``$COURSEKIT_DATA`` if set; otherwise ``$XDG_CACHE_HOME/coursekit`` or
    ``~/.cache/coursekit``.
    """
    env = os.environ.get("COURSEKIT_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "coursekit"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, timeout: float = 60.0) -> bytes:
    """Download ``url`` and return its bytes (the one place that touches the network)."""
    req = urllib.request.Request(url, headers={"User-Agent": "coursekit"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed https/http mirrors
        return resp.read()


def _atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def ensure_files(name: str, root: Path, download: bool) -> dict[str, Path]:
    """Make sure the four IDX files of ``name`` are in ``root`` with the right checksums."""
    spec = SOURCES[name]
    folder = root / name
    paths = {}
    problems = []
    if download:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(_("the folder {folder} cannot be created ({error})").format(folder=folder, error=exc))
    files = spec["md5"].items() if not problems else ()  # no folder: nothing to look for
    for fname, md5 in files:
        path = folder / fname
        try:
            cached_ok = path.exists() and _md5(path) == md5
        except OSError as exc:  # unreadable (permissions, a folder of that name...)
            problems.append(_("{file} cannot be read ({error})").format(file=fname, error=exc))
            continue
        if cached_ok:
            paths[fname] = path
            continue
        moved = False
        if path.exists():
            # Corrupt or truncated: never use it. Move it aside so it is not mistaken again.
            try:
                path.replace(path.with_name(path.name + ".corrupt"))
                moved = True
            except OSError as exc:
                problems.append(_("{file} has the wrong checksum and cannot be moved aside ({error}): delete it"
                                  ).format(file=fname, error=exc))
                continue
        if not download:
            problems.append((_("{file} is missing (the cached copy had the wrong checksum and was moved to "
                               "{file}.corrupt)") if moved else _("{file} is missing")).format(file=fname))
            continue
        errors = []
        for mirror in spec["mirrors"]:
            try:
                payload = _fetch(mirror + fname)
            except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException, ValueError) as exc:
                errors.append(f"{mirror}: {type(exc).__name__}: {exc}")
                continue
            got = hashlib.md5(payload).hexdigest()
            if got != md5:
                errors.append(f"{mirror}: checksum {got} != expected {md5}")
                continue
            try:
                _atomic_write(path, payload)
            except OSError as exc:  # read-only folder, disk full...
                problems.append(_("{file} was downloaded but cannot be saved in {folder} ({error})").format(
                    file=fname, folder=folder, error=exc))
            else:
                paths[fname] = path
            break
        else:
            if moved:
                text = _("{file} could not be downloaded (the cached copy had the wrong checksum and was moved to "
                         "{file}.corrupt) ({errors})")
            else:
                text = _("{file} could not be downloaded ({errors})")
            problems.append(text.format(file=fname, errors="; ".join(errors)))
    if problems:
        raise DatasetUnavailableError(_(
            "{name} is not available: {problems}.\n"
            "Place these four files in {folder} by hand (from any MNIST mirror) and call again:\n  {files}\n"
            "Or set COURSEKIT_DATA / pass root= to use another folder.").format(
                name=name, problems="; ".join(problems), folder=folder, files="\n  ".join(spec["md5"])))
    return paths


def check_idx_files(name: str, folder: Path, arrays: dict[str, np.ndarray], n_classes: int) -> None:
    """The four files agree with each other and with the data set's classes; else a ValueError naming them."""
    train_x, train_y = arrays["train-images-idx3-ubyte.gz"], arrays["train-labels-idx1-ubyte.gz"]
    test_x, test_y = arrays["t10k-images-idx3-ubyte.gz"], arrays["t10k-labels-idx1-ubyte.gz"]
    problems = []
    for fname, a in (("train-images-idx3-ubyte.gz", train_x), ("t10k-images-idx3-ubyte.gz", test_x)):
        if a.ndim != 3 or a.dtype != np.uint8:
            problems.append(f"{fname} holds {a.dtype} of shape {a.shape}, not images (unsigned bytes of shape "
                            "(n, height, width))")
    for fname, a in (("train-labels-idx1-ubyte.gz", train_y), ("t10k-labels-idx1-ubyte.gz", test_y)):
        if a.ndim != 1 or a.dtype.kind not in "ui":
            problems.append(f"{fname} holds {a.dtype} of shape {a.shape}, not labels (integers of shape (n,))")
        elif a.size and (int(a.min()) < 0 or int(a.max()) >= n_classes):
            problems.append(f"{fname} has labels from {int(a.min())} to {int(a.max())}; {name} has {n_classes} "
                            f"classes, labels 0 to {n_classes - 1}")
    if not problems:
        for images, labels, x, y in (("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", train_x, train_y),
                                     ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", test_x, test_y)):
            if len(x) != len(y):
                problems.append(f"{images} holds {len(x)} images but {labels} {len(y)} labels")
        if train_x.shape[1:] != test_x.shape[1:]:
            problems.append(f"train-images-idx3-ubyte.gz holds {train_x.shape[1]}x{train_x.shape[2]} images but "
                            f"t10k-images-idx3-ubyte.gz {test_x.shape[1]}x{test_x.shape[2]}")
    if problems:
        raise ValueError(f"{name}: the files in {folder} do not fit together: " + "; ".join(problems)
                         + ". Replace them with the four files of one copy of " + name)
