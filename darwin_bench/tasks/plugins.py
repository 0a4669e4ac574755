"""Plug-in tasks: any labelled arrays, or any Gymnasium env id (a public contract).

::

    task = darwin_bench.tasks.from_arrays(X, y, name="wine")  # a classification task
    task = darwin_bench.tasks.from_gym("Acrobot-v1")          # a control task
    env_id = darwin_bench.register(task, space="mlp")         # "darwin_bench/Wine-MLP-v0"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from darwin_bench.tasks.classification import ClassificationTask, stratified_splits
from darwin_bench.tasks.control import ControlTask
from darwin_bench.training import TrainConfig

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_name(name: Any) -> str:
    """Return ``name`` if it can be part of an env id (letters, digits, ``_``; a letter first).

    Raises:
        ValueError: naming the rule.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(
            "name must start with a letter and contain only letters, digits and '_' "
            f"(it becomes part of the env id); got {name!r}"
        )
    return name


def _features(X: Any) -> np.ndarray:
    try:
        x = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be a numeric array of shape (n_samples, ...): {exc}") from None
    if x.dtype.kind not in "biuf":
        raise ValueError(
            f"X must hold numbers (bool, int or float); got dtype {x.dtype} - encode text or "
            "categorical columns as numbers first"
        )
    if x.ndim < 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features) or (n_samples, C, H, W); got {x.shape}"
        )
    if x.shape[0] == 0 or x[0].size == 0:
        raise ValueError(f"X must have at least one sample and one feature; got {x.shape}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"X must be finite; found NaN or inf at index {tuple(int(i) for i in bad)} "
            f"({int((~np.isfinite(x)).sum())} entries) - impute or drop them first"
        )
    return x


def _labels(y: Any, n: int) -> tuple[np.ndarray, list[Any]]:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class labels; got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(
            f"X and y must have the same length; got {n} samples and {len(arr)} labels"
        )
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            raise ValueError(
                "y must hold class labels (integers or strings); got non-integer floats - "
                "from_arrays builds classification tasks, not regression"
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuUSO":
        raise ValueError(f"y must hold class labels (integers or strings); got dtype {arr.dtype}")
    classes, codes = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y must contain at least 2 classes; got {len(classes)}")
    counts = np.bincount(codes)
    if counts.min() < 3:
        rare = classes[int(np.argmin(counts))].item()
        raise ValueError(
            f"every class needs at least 3 samples for a stratified train/val/test split; "
            f"class {rare!r} has {int(counts.min())}"
        )
    return codes.astype(np.int64), [c.item() if hasattr(c, "item") else c for c in classes]


def from_arrays(
    X: Any,
    y: Any,
    *,
    name: str,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    standardize: bool = True,
    epochs: int = 20,
    lr: float = 3e-3,
    batch_size: int = 64,
    default_targets: Mapping[str, float] | None = None,
) -> ClassificationTask:
    """Make a classification task from arrays, with a fixed stratified train/val/test split.

    Args:
        X: features, ``(n_samples, n_features)`` (or ``(n_samples, C, H, W)`` images); numbers.
        y: class labels, ``(n_samples,)``; integers or strings (mapped to ``0..k-1`` in sorted
            order, see ``task.classes``).
        name: task name, also the env id's stem (``"wine"`` -> ``darwin_bench/Wine-MLP-v0``).
        val_fraction: share of samples the search is scored on.
        test_fraction: share held out for reporting (``test_accuracy``).
        standardize: scale every feature to zero mean, unit variance (training-split stats).
        epochs: default training epochs (the fidelity).
        lr: Adam learning rate.
        batch_size: minibatch size.
        default_targets: reward targets per cost (default: from the MLP a 64-64 network costs).

    Raises:
        ValueError: naming the problem: wrong shapes, non-numeric or non-finite ``X``,
            non-label ``y``, too few samples per class, bad fractions or name.
    """
    check_name(name)
    x = _features(X)
    labels, classes = _labels(y, x.shape[0])
    train, val, test = _splits(x, labels, val_fraction, test_fraction)
    if standardize:
        mean = train[0].mean(axis=0, keepdims=True)
        std = train[0].std(axis=0, keepdims=True)
        std[std == 0] = 1.0
        train, val, test = (((a - mean) / std, b) for a, b in (train, val, test))
    n_in, n_out = int(np.prod(x.shape[1:])), len(classes)
    return ClassificationTask(
        name,
        train,
        val,
        test,
        num_classes=n_out,
        train_config=TrainConfig(lr=lr, batch_size=batch_size),
        epochs=epochs,
        default_targets=default_targets or _mlp_targets(n_in, n_out),
        classes=classes,
    )


Split = tuple[np.ndarray, np.ndarray]


def _splits(x: np.ndarray, labels: np.ndarray, val: float, test: float) -> tuple[Split, ...]:
    """Stratified (train, val, test) splits of checked fractions.

    Raises:
        ValueError: for fractions outside (0, 1), leaving under 10% for training, or too few
            samples to split.
    """
    for field, value in (("val_fraction", val), ("test_fraction", test)):
        if not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(f"{field} must be a number in (0, 1); got {value!r}")
    if val + test >= 0.9:
        raise ValueError("val_fraction + test_fraction must leave at least 10% for training")
    try:
        return stratified_splits(x, labels, val, test)
    except ValueError as exc:
        raise ValueError(f"cannot split {len(labels)} samples into train/val/test: {exc}") from None


def _mlp_targets(n_in: int, n_out: int) -> dict[str, float]:
    """Reward targets from what a 64-64 MLP costs on ``n_in`` features and ``n_out`` classes
    (``latency_ms``: the Digits target, the median ONNX Runtime latency of random Digits nets)."""
    flops = 2.0 * (n_in * 64 + 64 * 64 + 64 * n_out)
    return {"flops": flops, "params": flops / 2, "synapses": flops / 2, "latency_ms": 0.0054}


def from_gym(env_id: str, *, name: str | None = None, **kwargs: Any) -> ControlTask:
    """Make a control task from any Gymnasium env id (Discrete or 1-D Box actions).

    Policy networks are trained with stable-baselines3 PPO and scored by their mean return over
    fixed evaluation seeds; see :class:`~darwin_bench.tasks.control.ControlTask` for ``kwargs``
    (``timesteps``, ``ppo``, ``eval_episodes``, ``return_range``, ``env_kwargs``).

    Raises:
        ValueError: for an id Gymnasium does not know or an unsupported action space.
    """
    base = str(env_id).split("/")[-1].rsplit("-v", 1)[0]
    task_name = check_name(name) if name is not None else re.sub(r"\W", "_", base).lower()
    return ControlTask(env_id, name=task_name, **kwargs)
