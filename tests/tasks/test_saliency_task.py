from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench  # noqa: F401  (registers the envs)
from darwin_bench.architecture import Architecture
from darwin_bench.spaces.fcn import FCNSpace
from darwin_bench.tasks.saliency import SaliencyTask
from envs.tasks import make_task

SCENES = 100


@pytest.fixture(scope="module")
def task() -> SaliencyTask:
    return SaliencyTask(scenes=SCENES)


def reference(
    task: SaliencyTask, channels: tuple[int, ...] = (8, 16), norm: str = "none"
) -> Architecture:
    space = FCNSpace(task.input_shape, task.num_outputs)
    layers = [{"channels": c, "kernel": 3, "convs": 1} for c in channels]
    globals_ = {
        "downsample": "stride",
        "upsample": "bilinear",
        "skip": True,
        "activation": "relu",
        "norm": norm,
    }
    return space.build_architecture(layers, globals_)


def test_splits_are_fixed_disjoint_and_hashed(task: SaliencyTask) -> None:
    assert [len(p) for p in task.splits] == [60, 20, 20]
    assert task.input_shape == (3, 32, 32) and task.num_outputs == 1
    again = SaliencyTask(scenes=SCENES)
    assert again.data_hash == task.data_hash and len(task.data_hash) == 64
    assert SaliencyTask(scenes=SCENES, data_seed=1).data_hash != task.data_hash
    assert task.spec()["data_hash"] == task.data_hash
    train = {p.tobytes() for p in task.splits[0].images}
    assert not train & {p.tobytes() for p in task.splits[2].images}


def test_inputs_are_centred_per_image(task: SaliencyTask) -> None:
    means = task.x_train.mean(dim=(2, 3))
    assert float(means.abs().max()) < 1e-4


def test_same_seed_same_metrics(task: SaliencyTask) -> None:
    arch = reference(task)
    first = task.fit(arch, seed=3, fidelity={"epochs": 1})
    second = task.fit(arch, seed=3, fidelity={"epochs": 1})
    assert first.metrics == second.metrics and first.test_metrics == second.test_metrics
    m = first.metrics
    assert set(m) >= {"f_beta", "mae", "val_loss", "train_loss"}
    assert set(first.test_metrics) == {"test_f_beta", "test_mae", "test_loss"}
    assert 0.0 <= m["f_beta"] <= 1.0 and 0.0 <= m["mae"] <= 1.0
    assert task.fit(arch, seed=4, fidelity={"epochs": 1}).metrics != first.metrics
    assert task.score(m) == m["f_beta"]


def test_training_learns_the_scenes() -> None:
    task = SaliencyTask(scenes=300)
    result = task.fit(reference(task), seed=3, fidelity={"epochs": 4})
    m = result.metrics
    # Better than a map of the mean mask coverage everywhere (MAE 0.28 on this split), and
    # an F-beta far above 0 (that constant map scores 0). Measured: 0.66 / 0.15.
    coverage = float(task.y_train.mean())
    assert m["mae"] < 0.8 * float(np.abs(coverage - task.y_val.numpy()).mean())
    assert m["f_beta"] > 0.45 and result.test_metrics["test_f_beta"] > 0.45


def test_more_epochs_lower_the_training_loss(task: SaliencyTask) -> None:
    arch = reference(task)
    short = task.fit(arch, seed=0, fidelity={"epochs": 1})
    long = task.fit(arch, seed=0, fidelity={"epochs": 5})
    assert long.metrics["train_loss"] < short.metrics["train_loss"]


def test_bad_arguments_name_the_field(task: SaliencyTask) -> None:
    with pytest.raises(ValueError, match="fractions"):
        SaliencyTask(scenes=SCENES, fractions=(0.5, 0.5))
    with pytest.raises(ValueError, match="scenes"):
        SaliencyTask(scenes=0)
    with pytest.raises(ValueError, match="fidelity 'steps'"):
        task.check_fidelity({"steps": 2})


def _write_folder(root: Path, n: int, with_masks: bool = True) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        img = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
        mask = np.zeros((16, 16), dtype=np.uint8)
        mask[4:12, 4:12] = 255
        Image.fromarray(img).save(root / "images" / f"{i:03d}.png")
        if with_masks or i:
            Image.fromarray(mask).save(root / "masks" / f"{i:03d}.png")


def test_a_real_folder_is_a_task(tmp_path: Path) -> None:
    _write_folder(tmp_path / "set", 10)
    task = SaliencyTask(folder=tmp_path / "set", size=None)
    assert task.input_shape == (3, 16, 16)
    assert [len(p) for p in task.splits] == [6, 2, 2]
    result = task.fit(reference(task, (8,)), seed=0, fidelity={"epochs": 1})
    assert np.isfinite(result.metrics["f_beta"])


def test_a_folder_without_masks_is_a_clear_error(tmp_path: Path) -> None:
    _write_folder(tmp_path / "set", 4, with_masks=False)
    with pytest.raises(ValueError, match="without a mask"):
        SaliencyTask(folder=tmp_path / "set")


def test_the_env_reports_saliency_metrics_and_costs() -> None:
    env = gym.make(
        "darwin_bench/Saliency-FCN-v0",
        epochs=1,
        task_kwargs={"scenes": 60},
        budget=2,
        measure_latency=False,
    )
    env.reset(seed=0)
    space = env.unwrapped.search_space
    _, reward, _, _, info = env.step(space.sample(np.random.default_rng(0)))
    assert info["status"] == "ok"
    assert {"f_beta", "mae"} <= set(info["metrics"])
    assert not any(k.startswith("test_") for k in info["metrics"])
    assert info["costs"]["flops"] > 0 and info["costs"]["synapses"] > 0
    assert np.isfinite(reward)
    assert make_task("saliency", {"scenes": 60}).default_targets["flops"] > 0
