"""Building tables: learning curves equal live fits, the whole space, resume after a kill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_tables import LIVE, TINY_MLP

from darwin_bench.tables import Table
from darwin_bench.tables.build import build_table, table_seed
from darwin_bench.tasks.base import LearningCurve
from envs.tabular import build_plan


def test_a_learning_curve_is_every_fit_at_once(digits_task) -> None:
    from darwin_bench.spaces import make_space

    space = make_space("cnn", (1, 8, 8), 10)
    from envs.tasks import make_task

    task = make_task("digits", {"image": True})
    architecture = space.decode(space.sample(np.random.default_rng(3)))
    curve = task.learning_curve(architecture, seed=11, epochs=3)
    assert len(curve.metrics) == len(curve.seconds) == 3 and not curve.failures
    assert curve.seconds == sorted(curve.seconds)
    for epochs in (1, 3):
        fit = task.fit(architecture, seed=11, fidelity={"epochs": epochs})
        assert curve.metrics[epochs - 1] == fit.metrics
        assert curve.test_metrics[epochs - 1] == fit.test_metrics


def test_batched_curves_equal_batched_fits(digits_task) -> None:
    from darwin_bench.spaces import make_space

    space = make_space("mlp", (64,), 10, max_layers=2)
    rng = np.random.default_rng(0)
    requests = [(space.decode(space.sample(rng)), seed) for seed in (1, 2, 3)]
    curves = digits_task.learning_curves(requests, 3)
    assert all(isinstance(c, LearningCurve) for c in curves)
    for (architecture, seed), curve in zip(requests, curves):
        for epochs in (2, 3):
            [fit] = digits_task.fit_batch([(architecture, seed, {"epochs": epochs})])
            assert not isinstance(fit, Exception)
            assert curve.metrics[epochs - 1] == fit.metrics
            assert curve.test_metrics[epochs - 1] == fit.test_metrics


def test_the_table_holds_every_network_and_seed(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    plan = build_plan(LIVE["mlp"], TINY_MLP, seeds=2)
    assert len(plan.genomes) == table.num_architectures == 4
    for row, genome in enumerate(plan.genomes):
        architecture = plan.space.decode(genome)
        assert table.row(architecture.hash) == row
        assert table.seeds[row].tolist() == [table_seed(k, architecture.hash) for k in (0, 1)]
    assert not np.isnan(table.arrays["metric:accuracy"]).any()
    assert (table.arrays["train_flops"] > 0).all()
    assert table.meta["task_spec"] == plan.task.spec()
    assert table.meta["cost_config"] == plan.cost_config.to_dict()


class Killed(Exception):
    """Stands in for a SIGKILL in the middle of a build."""


def test_a_killed_build_resumes_without_retraining(tmp_path: Path) -> None:
    plan = build_plan(LIVE["mlp"], TINY_MLP, seeds=2)
    calls: list[int] = []

    def dies_after_one(fn, items):  # runs one batch, then the process "dies"
        if calls:
            raise Killed
        calls.append(len(items))
        return [fn(item) for item in items]

    out = tmp_path / "t.npz"
    with pytest.raises(Killed):
        build_table(plan, out, executor=dies_after_one, batch_size=3)
    assert not out.exists() and len(out.with_name("t.npz.partial").read_text().splitlines()) == 4

    partial = out.with_name("t.npz.partial")
    with partial.open("a") as f:
        f.write('{"row": 3, "k"')  # the torn last line of a SIGKILL during a write
    trained: list[int] = []

    def counting(fn, items):
        trained.extend(len(batch) for batch in items)
        return [fn(item) for item in items]

    resumed = build_table(plan, out, executor=counting, batch_size=3)
    assert sum(trained) == 8 - 3  # only what the killed build had not finished
    assert not out.with_name("t.npz.partial").exists()
    whole = build_table(plan, tmp_path / "whole.npz", batch_size=8)
    for name in resumed.arrays:
        if name not in ("seconds",) and not name.startswith("cost:latency_ms"):
            nan = resumed.arrays[name].dtype.kind == "f"
            assert np.array_equal(resumed.arrays[name], whole.arrays[name], equal_nan=nan), name


def test_a_partial_build_of_another_problem_is_refused(tmp_path: Path) -> None:
    plan = build_plan(LIVE["mlp"], TINY_MLP, seeds=2)
    out = tmp_path / "t.npz"
    out.with_name("t.npz.partial").write_text('{"identity": {"env_id": "other"}}\n')
    with pytest.raises(ValueError, match="partial build of another problem"):
        build_table(plan, out)


def test_tables_need_an_epochs_fidelity() -> None:
    with pytest.raises(ValueError, match="only fidelity is epochs"):
        build_plan("darwin_bench/CartPole-MLP-v0", {"space_kwargs": {"max_layers": 1}})
