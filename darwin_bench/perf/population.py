"""``perf population``: a population trained one network at a time vs as one batched program.

Both sides train the same networks (sampled from the env's space with ``seed``) with the same
per-network seeds at the env's fidelity, on one torch thread, in this process: the per-model
side calls :meth:`Task.fit` for each network (what the env does with ``batched=False``), the
batched side one :meth:`Task.fit_batch` for all of them. The figures: both times, the speed-up,
the mean validation (and test) accuracy of each side, and what bounds the speed-up (``bounds``):
the CPU time of the per-model loop's matrix products alone (``gemm_only``; ``speedup_bound`` =
per-model CPU time / that time is the speed-up of a trainer with no cost but those products),
of the batched program's own products alone (``batched_gemm_only``: its layout and kernels,
which its results' bits depend on, so the floor of any bit-identical rewrite), and of the
arithmetic at this machine's large-GEMM rate (``arithmetic``).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import numpy as np
import torch

from darwin_bench.architecture import Architecture
from darwin_bench.perf.machine import Timing, conditions, timed
from darwin_bench.seeding import derive_seed
from darwin_bench.spaces import SearchSpace
from darwin_bench.tasks import ClassificationTask, Task
from darwin_bench.validation import check_positive_int


def sample_architectures(space: Any, n: int, seed: int) -> list[Architecture]:
    """``n`` distinct architectures drawn from ``space`` with ``seed``.

    Raises:
        ValueError: when the space has fewer than ``n`` distinct architectures reachable.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Architecture] = {}
    for _ in range(100 * n):
        architecture = space.decode(space.sample(rng))
        out.setdefault(architecture.hash, architecture)
        if len(out) == n:
            return list(out.values())
    raise ValueError(f"n: could not draw {n} distinct architectures from space {space.name!r}")


def population_benchmark(
    task: Task,
    space: SearchSpace,
    *,
    n: int = 64,
    seed: int = 0,
    epochs: int | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train ``n`` networks of ``space`` on ``task`` per model and batched; return the figures.

    ``threads``: torch threads of both sides (default: the task's, 1). The batched side's bits
    do not depend on it; the per-model side's may.

    Raises:
        ValueError: for ``n < 1`` or ``threads < 1``, or networks the task cannot batch.
    """
    check_positive_int("n", n)
    if threads is not None:
        check_positive_int("threads", threads)
        task = copy.copy(task)
        task.threads = threads
    if not isinstance(task, ClassificationTask):
        raise ValueError(f"task {task.name!r} is not a classification task (no batched trainer)")
    fidelity = task.check_fidelity({} if epochs is None else {"epochs": epochs})
    architectures = sample_architectures(space, n, seed)
    if any(task.batch_key(a, fidelity) is None for a in architectures):
        raise ValueError(f"task {task.name!r} has no batched trainer for {space.name!r} networks")
    seeds = [derive_seed(seed, a.hash) for a in architectures]
    warm = {"epochs": 1}  # first calls pay one-off costs (lazy kernels, allocator): not timed
    task.fit(architectures[0], seed=0, fidelity=warm)
    task.fit_batch([(a, 0, warm) for a in architectures[:2]])
    start = conditions()
    per_model, per_model_time, batched, batched_time = _both_sides(
        task, architectures, seeds, fidelity
    )
    steps = fidelity["epochs"] * -(-int(task.x_train.shape[0]) // task.train_config.batch_size)
    with timed() as gemm_time:
        gemm_products(architectures, task.train_config.batch_size, steps, task.threads)
    bounds = speedup_bounds(task, architectures, seeds, steps, per_model_time, gemm_time)
    failed = [i for i, r in enumerate(batched) if isinstance(r, Exception)]
    ok = [r for r in batched if not isinstance(r, Exception)]
    per_model_accuracy, batched_accuracy = _accuracy(per_model), _accuracy(ok)
    sides = {
        "per_model": {**per_model_time.to_dict(), **per_model_accuracy},
        "batched": {**batched_time.to_dict(), **batched_accuracy, "failed": failed},
    }
    gap = 100 * (batched_accuracy["mean_val_accuracy"] - per_model_accuracy["mean_val_accuracy"])
    speedup = per_model_time.wall / batched_time.wall
    return {
        "task": task.name,
        "space": space.name,
        "networks": n,
        "fidelity": fidelity,
        "seed": seed,
        "training_threads": getattr(task, "threads", None),
        **sides,
        "speedup": round(speedup, 2),
        "gemm_only": gemm_time.to_dict(),
        "speedup_bound": round(per_model_time.cpu / gemm_time.cpu, 2),
        "bounds": bounds,
        "batched_gemm_share": round(
            bounds["batched_gemm_only"]["cpu_seconds"] / batched_time.cpu, 3
        ),
        "cpu_speedup": round(per_model_time.cpu / batched_time.cpu, 2),
        "val_accuracy_gap_points": round(gap, 3),
        "target": {"speedup": 10.0, "max_gap_points": 0.5},
        "meets_target": bool(speedup >= 10.0 and abs(gap) <= 0.5),
        "conditions_before": start,
        "conditions_after": conditions(),
    }


def _both_sides(
    task: ClassificationTask,
    architectures: list[Architecture],
    seeds: list[int],
    fidelity: dict[str, int],
) -> tuple[list[Any], Timing, list[Any], Timing]:
    """Per-model results and time, batched results and time. The per-model halves run before
    and after the batched run: a drifting load on a shared machine then weighs on both alike."""
    half = len(architectures) // 2
    pairs = list(zip(architectures, seeds))
    with timed() as first:
        per_model = [task.fit(a, seed=s, fidelity=fidelity) for a, s in pairs[:half]]
    with timed() as batched_time:
        batched = task.fit_batch([(a, s, fidelity) for a, s in pairs])
    with timed() as second:
        per_model += [task.fit(a, seed=s, fidelity=fidelity) for a, s in pairs[half:]]
    per_model_time = Timing(first.wall + second.wall, first.cpu + second.cpu)
    return per_model, per_model_time, batched, batched_time


def gemm_products(
    architectures: list[Architecture], batch_size: int, steps: int, threads: int
) -> None:
    """Run only the matrix products of training ``architectures`` one by one for ``steps``
    minibatches each (forward, weight gradient, input gradient but the first layer's): the
    floor of any trainer that does the same arithmetic."""
    from darwin_bench.batched import dense_layout
    from darwin_bench.seeding import torch_determinism

    with torch_determinism(0, threads):
        for architecture in architectures:
            layout = dense_layout(architecture)
            assert layout is not None
            dims = layout[0]
            mats = [
                (torch.randn(batch_size, i), torch.randn(o, i), torch.randn(batch_size, o))
                for i, o in itertools.pairwise(dims)
            ]
            for _ in range(steps):
                for k, (x, w, g) in enumerate(mats):
                    torch.mm(x, w.t())
                    torch.mm(g.t(), x)
                    if k:
                        torch.mm(g, w)


def speedup_bounds(
    task: ClassificationTask,
    architectures: list[Architecture],
    seeds: list[int],
    steps: int,
    per_model: Timing,
    gemm_only: Timing,
) -> dict[str, Any]:
    """The CPU-time speed-ups over the per-model loop that three floors allow (see the module
    docstring): its own products, the batched program's products, the arithmetic at peak."""
    from darwin_bench.batched import DenseTrainer, dense_layout, dense_net
    from darwin_bench.batched.layout import ALIGN_ROWS, round_up
    from darwin_bench.seeding import torch_determinism

    nets = [dense_net(a, s, task.threads) for a, s in zip(architectures, seeds)]
    trainer = DenseTrainer(nets, seeds, task.train_config, threads=task.threads)
    with torch_determinism(0, task.threads):
        with timed() as batched_gemm:
            trainer.products(steps)
        peak = peak_gemm_gflops()
    rows = round_up(task.train_config.batch_size, ALIGN_ROWS)  # the batched program's rows
    flops = 0
    for architecture in architectures:
        layout = dense_layout(architecture)
        assert layout is not None
        pairs = itertools.pairwise(layout[0])  # forward + weight gradient (+ input gradient)
        flops += sum(2 * rows * i * o * (2 if k == 0 else 3) for k, (i, o) in enumerate(pairs))
    gflop = flops * steps / 1e9
    return {
        "per_model_gemms": round(per_model.cpu / gemm_only.cpu, 2),
        "batched_gemm_only": batched_gemm.to_dict(),
        "batched_gemms": round(per_model.cpu / batched_gemm.cpu, 2),
        "batched_gemm_gflops": round(gflop / batched_gemm.cpu, 1),
        "arithmetic": {"gflop": round(gflop, 1), "peak_gemm_gflops": round(peak, 1)},
        "arithmetic_at_peak": round(per_model.cpu / (gflop / peak), 2),
    }


def peak_gemm_gflops(size: int = 1024, repeats: int = 8) -> float:
    """This machine's single-precision GEMM rate (GFLOP per CPU second) on ``size``-square
    matrices in the current thread settings: best of three rounds of ``repeats`` products."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    for _ in range(3):
        with timed() as t:
            for _ in range(repeats):
                torch.mm(a, b)
        best = max(best, 2 * size**3 * repeats / 1e9 / max(t.cpu, 1e-9))
    return best


def _accuracy(results: list[Any]) -> dict[str, float]:
    val = [r.metrics["accuracy"] for r in results]
    test = [r.test_metrics["test_accuracy"] for r in results]
    return {
        "mean_val_accuracy": round(float(np.mean(val)), 5),
        "mean_test_accuracy": round(float(np.mean(test)), 5),
    }
