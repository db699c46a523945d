"""Data for the course: the offline digits default, MNIST and Fashion-MNIST, minibatches.

Introduced in ``notebooks/00_start_here.ipynb``.

Every loader returns the same small container, :class:`Dataset`, so a notebook's
parameter cell can switch data with one word (``load("mnist")``) and nothing
else changes. Images are float32 in [0, 1], flattened to vectors; labels are int64.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ._checks import check_bool, check_choice, check_float, check_generator, check_int, check_tensor
from ._i18n import _
from .idx import (  # noqa: F401  (read_idx, default_cache_dir, the error: re-exported)
    SOURCES,
    DatasetUnavailableError,
    check_idx_files,
    default_cache_dir,
    ensure_files,
    read_idx,
)

__all__ = [
    "Dataset",
    "load",
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
    "batches",
    "read_idx",
    "default_cache_dir",
    "DatasetUnavailableError",
    "DATASETS",
    "sklearn_example_data",
]

DATASETS = ("digits", "mnist", "fashion-mnist")

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass
class Dataset:
    """Train / validation / test tensors plus what a notebook needs to know about them.

    Attributes:
        name: "digits", "mnist" or "fashion-mnist".
        x_train, x_val, x_test: float32 tensors of shape (n, n_features), values in [0, 1].
        y_train, y_val, y_test: int64 tensors of shape (n,).
        image_shape: (height, width) to reshape a row back into an image.
        class_names: one name per class.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    image_shape: tuple[int, int]
    class_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_features(self) -> int:
        """Number of input features (pixels per image)."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def __repr__(self) -> str:
        h, w = self.image_shape
        return (
            f"Dataset({self.name!r}: train {len(self.y_train)}, val {len(self.y_val)}, "
            f"test {len(self.y_test)}; {self.n_features} features ({h}x{w}), "
            f"{self.n_classes} classes)"
        )

    def subset(self, n_train: int, seed: int = 0) -> "Dataset":
        """Return a copy whose training split keeps only ``n_train`` examples.

        The kept examples are stratified (each class keeps its share) and chosen
        by ``seed``; validation and test splits are unchanged. Used to provoke
        overfitting on purpose (``notebooks/06_dropout.ipynb``).
        """
        n_train = check_int("n_train", n_train, minimum=self.n_classes, maximum=len(self.y_train))
        seed = check_int("seed", seed, minimum=0)
        idx = _stratified_indices(self.y_train.numpy(), n_train, seed)
        return Dataset(
            self.name, self.x_train[idx], self.y_train[idx], self.x_val, self.y_val,
            self.x_test, self.y_test, self.image_shape, self.class_names,
        )

    def to(self, device: str | torch.device) -> "Dataset":
        """Return a copy with every tensor moved to ``device`` ("cpu", "cuda", "cuda:1", "mps" or a torch.device)."""
        device = _check_device("device", device)
        t = {k: getattr(self, k).to(device) for k in
             ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")}
        return Dataset(self.name, image_shape=self.image_shape, class_names=self.class_names, **t)


def _available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def _check_device(name: str, device) -> torch.device:
    """``device`` as a torch.device this PyTorch can use, or a clear error naming the argument."""
    if not isinstance(device, (str, torch.device)):
        raise TypeError(_("{name} must be a device name such as 'cpu' or 'cuda', or a torch.device; got {type} "
                          "{device}").format(
                name=name, type=type(device).__name__, device=repr(device)))
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(_("{name} must be a device name such as 'cpu', 'cuda' or 'cuda:0'; got {device}. Available "
                           "here: {available_devices}").format(
                name=name, device=repr(device), available_devices=', '.join(_available_devices()))) from None
    available = _available_devices()
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                why = _("this PyTorch ({version}) is a CPU-only build").format(version=torch.__version__)
            else:
                why = _("this PyTorch ({version}) finds no usable NVIDIA GPU").format(version=torch.__version__)
            raise ValueError(_("{name}={device}, but {why}: available here: {available}. "
                               "Use {name}='cpu' (the course trains on the CPU everywhere), or on a machine with an "
                               "NVIDIA GPU install PyTorch's CUDA build with `make lab TORCH=cuda`").format(
                    name=name, device=repr(device), why=why,
                    available=', '.join(available)))
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(_("{name}={device}, but there are {device_count} GPU(s): available here: {available}").format(
                    name=name, device=repr(device), device_count=torch.cuda.device_count(),
                    available=', '.join(available)))
    elif dev.type == "mps" and "mps" not in available:
        raise ValueError(_("{name}={device}, but Apple's MPS is not available here: available here: {available}").format(
                name=name, device=repr(device), available=', '.join(available)))
    return dev


def _stratified_indices(y: np.ndarray, n: int, seed: int) -> torch.Tensor:
    """Indices of ``n`` examples keeping class proportions, sorted, deterministic."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    share = counts / counts.sum() * n
    take = np.floor(share).astype(int)
    # hand out the remainder to the classes with the largest fractional parts
    for i in np.argsort(-(share - take), kind="stable")[: n - take.sum()]:
        take[i] += 1
    chosen = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)]
    return torch.from_numpy(np.sort(np.concatenate(chosen)))


def _split(x: np.ndarray, y: np.ndarray, val_fraction: float, test_fraction: float, seed: int):
    """Deterministic stratified train/val/test split (scikit-learn's train_test_split)."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed
    )
    val_of_rest = val_fraction / (1.0 - test_fraction)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_of_rest, stratify=y_rest, random_state=seed
    )
    return x_train, y_train, x_val, y_val, x_test, y_test


def _tensors(*arrays: np.ndarray) -> list[torch.Tensor]:
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
        else:
            out.append(torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)))
    return out


def load_digits(val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load scikit-learn's 8x8 handwritten digits: the course's offline default.

    1,797 images of 8x8 pixels (64 features), 10 classes. They ship inside
    scikit-learn, so nothing is downloaded. Pixels (0-16) are scaled to [0, 1].

    Args:
        val_fraction: share of all examples held out for validation, in (0, 0.5).
        test_fraction: share of all examples held out for the final test, in (0, 0.5).
        seed: seed of the stratified split; the same seed always gives the same split.

    Returns:
        A :class:`Dataset` (with the defaults: 1077 train, 360 validation, 360 test).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    val_fraction = check_float("val_fraction", val_fraction, 0.0, 0.5, min_inclusive=False, max_inclusive=False)
    test_fraction = check_float("test_fraction", test_fraction, 0.0, 0.5, min_inclusive=False, max_inclusive=False)
    seed = check_int("seed", seed, minimum=0)
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    parts = _tensors(*_split(x, y, val_fraction, test_fraction, seed))
    return Dataset("digits", *parts, image_shape=(8, 8), class_names=tuple(str(i) for i in range(10)))


def _load_idx_dataset(
    name: str, root: str | os.PathLike | None, download: bool, val_size: int, seed: int,
    class_names: Sequence[str],
) -> Dataset:
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(_("root must be a folder path (str or pathlib.Path) or None; got {type} {root}").format(
                type=type(root).__name__, root=repr(root)))
    root_path = Path(root).expanduser() if root is not None else default_cache_dir()
    download = check_bool("download", download)
    seed = check_int("seed", seed, minimum=0)
    if root_path.exists() and not root_path.is_dir():
        raise ValueError(_("root must be a folder; got {root}, which is a file. Pass the folder that holds (or will "
                           "hold) the {name}/ folder of the four IDX files, or leave root out for the cache folder "
                           "($COURSEKIT_DATA or ~/.cache/coursekit)").format(
                root=repr(str(root)), name=name))
    paths = ensure_files(name, root_path, download)
    arrays = {fname: read_idx(path) for fname, path in paths.items()}
    check_idx_files(name, root_path / name, arrays, len(class_names))
    x_all = arrays["train-images-idx3-ubyte.gz"]
    y_all = arrays["train-labels-idx1-ubyte.gz"]
    x_test = arrays["t10k-images-idx3-ubyte.gz"]
    y_test = arrays["t10k-labels-idx1-ubyte.gz"]
    val_size = check_int("val_size", val_size, minimum=1, maximum=len(y_all) - 1)
    h, w = x_all.shape[1:]
    perm = np.random.default_rng(seed).permutation(len(y_all))
    val_idx, train_idx = np.sort(perm[:val_size]), np.sort(perm[val_size:])
    flat = lambda a: (a.reshape(len(a), -1).astype(np.float32) / 255.0)  # noqa: E731
    parts = _tensors(
        flat(x_all[train_idx]), y_all[train_idx].astype(np.int64),
        flat(x_all[val_idx]), y_all[val_idx].astype(np.int64),
        flat(x_test), y_test.astype(np.int64),
    )
    return Dataset(name, *parts, image_shape=(int(h), int(w)), class_names=tuple(class_names))


def load_mnist(
    root: str | os.PathLike | None = None, download: bool = True, val_size: int = 5000, seed: int = 0
) -> Dataset:
    """Load MNIST (60,000 train + 10,000 test images of 28x28), downloading it once.

    The four IDX files are kept in ``root/mnist`` (default: :func:`default_cache_dir`),
    each checked against its known MD5; a download goes to a temporary file that is
    renamed only once complete and verified, so a half-written file never looks valid.

    Args:
        root: cache folder; default ``$COURSEKIT_DATA`` or ``~/.cache/coursekit``.
        download: fetch missing files (False: only use what is in ``root``).
        val_size: training images held out as the validation split.
        seed: seed of the validation split.

    Returns:
        A :class:`Dataset` with 784 features in [0, 1].

    Raises:
        DatasetUnavailableError: offline or corrupt, naming the folder and the four files.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    return _load_idx_dataset("mnist", root, download, val_size, seed, [str(i) for i in range(10)])


def load_fashion_mnist(
    root: str | os.PathLike | None = None, download: bool = True, val_size: int = 5000, seed: int = 0
) -> Dataset:
    """Load Fashion-MNIST (Zalando's drop-in MNIST replacement), downloading it once.

    Same arguments, caching and checks as :func:`load_mnist`.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    return _load_idx_dataset("fashion-mnist", root, download, val_size, seed, FASHION_CLASSES)


def load(name: str = "digits", **kwargs) -> Dataset:
    """Load a data set by name: "digits" (offline default), "mnist" or "fashion-mnist".

    Keyword arguments go to the matching loader. A notebook's parameter cell holds
    ``DATASET = "digits"``; change that one word to run the notebook on MNIST.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    key = check_choice("name", name, DATASETS)
    loader = {"digits": load_digits, "mnist": load_mnist, "fashion-mnist": load_fashion_mnist}[key]
    return loader(**kwargs)


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield minibatches ``(x[idx], y[idx])`` by index slicing of in-memory tensors.

    No per-example collation as in ``DataLoader``: one ``randperm`` per epoch and one
    gather per batch, which is what makes small-network training fast on a CPU.

    Args:
        x: inputs, first dimension = examples.
        y: targets with the same first dimension.
        batch_size: examples per batch, >= 1.
        shuffle: draw a new order (from ``generator``) at each call.
        generator: a seeded ``torch.Generator`` for reproducible orders.
        drop_last: skip a final batch smaller than ``batch_size``.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    check_tensor("x", x)
    check_tensor("y", y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(_("x and y must have the same number of examples; got {shape} and {shape2}").format(
                shape=x.shape[0], shape2=y.shape[0]))
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_generator("generator", generator)
    check_bool("shuffle", shuffle)
    check_bool("drop_last", drop_last)
    return _batches(x, y, batch_size, shuffle, generator, drop_last)  # checked now, not at the first next()


def _batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool,
             generator: torch.Generator | None, drop_last: bool) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = x.shape[0]
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]
    else:
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def sklearn_example_data(test_size: float = 0.2, seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The data of scikit-learn's example "RBM features for digit classification".

    The 1,797 8x8 digits plus four copies shifted by one pixel (up, left, right,
    down: 8,985 images), min-max scaled to [0, 1] per pixel, then split 80/20 with
    ``random_state=seed``, exactly as the example does.

    Returns:
        ``(x_train, x_test, y_train, y_test)`` as NumPy arrays (float32 images).

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """
    from scipy.ndimage import convolve
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import minmax_scale

    test_size = check_float("test_size", test_size, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
    seed = check_int("seed", seed, minimum=0)
    x, y = load_digits(return_X_y=True)
    x = np.asarray(x, "float32")
    shifts = ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 1, 0]])
    images = x.reshape(-1, 8, 8)
    shifted = [np.stack([convolve(im, mode="constant", weights=w) for im in images]).reshape(len(x), 64)
               for w in shifts]
    x = minmax_scale(np.concatenate([x] + shifted), feature_range=(0, 1))
    y = np.concatenate([y] * 5)
    return tuple(train_test_split(x, y, test_size=test_size, random_state=seed))
