"""The seed-000 reproduction: config, pruners, summaries, tuning choice; one tiny run (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines import darwin_pruning as dp
from baselines import reproduce_darwin as rd
from baselines.darwin_report import merge, summarize
from baselines.darwin_tuning import GRIDS, choose, variants
from darwin_bench import synaptic


def _masks(rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights = [rng.normal(size=(12, 8)), rng.normal(size=(10, 12)), rng.normal(size=(3, 10))]
    masks = [rng.random(w.shape) < 0.8 for w in weights]
    return masks, weights


@pytest.mark.parametrize("name", sorted(dp.BASELINES))
def test_pruners_keep_a_subset_of_the_requested_size(name: str) -> None:
    rng = np.random.default_rng(0)
    masks, weights = _masks(rng)
    out = dp.BASELINES[name](masks, weights, 120, rng)
    assert all(not (o & ~m).any() for o, m in zip(out, masks))
    total = sum(int(o.sum()) for o in out)
    if name in ("random", "magnitude"):
        assert total == 120
    else:
        assert total <= 120
        for layer in range(2):  # whole neurons: a removed row also loses its outgoing column
            dead = ~out[layer].any(axis=1)
            assert not out[layer + 1][:, dead].any()


def test_magnitude_keeps_the_largest_weights() -> None:
    rng = np.random.default_rng(1)
    masks, weights = _masks(rng)
    out = dp.prune_magnitude(masks, weights, 30, rng)
    kept = np.concatenate([np.abs(w)[o] for w, o in zip(weights, out)])
    dropped = np.concatenate([np.abs(w)[m & ~o] for w, o, m in zip(weights, out, masks)])
    assert kept.min() >= dropped.max()


@pytest.mark.parametrize("name", ["random-neurons", "magnitude-neurons"])
def test_neuron_pruners_never_empty_a_layer(name: str) -> None:
    rng = np.random.default_rng(2)
    masks, weights = _masks(rng)
    out = dp.BASELINES[name](masks, weights, 0, rng)
    assert [int(o.any(axis=1).sum()) for o in out[:-1]] == [1, 1]


def test_each_level_has_its_own_baselines() -> None:
    assert dp.LEVEL_BASELINES["synapse"] == ("random", "magnitude")
    assert dp.LEVEL_BASELINES["cluster"] == ("random-neurons", "magnitude-neurons")


def test_config_parses_nested_rows_and_refuses_bad_values() -> None:
    config = rd.DarwinConfig.from_dict({"tasks": ["digits"], "digits": {"epochs": 30}})
    assert config.digits.epochs == 30 and config.mnist5k.epochs == rd.MNIST5kRow.epochs
    assert config.digits.changed() == {"epochs": [30, rd.DigitsRow.epochs]}
    with pytest.raises(ValueError, match="unknown"):
        rd.DarwinConfig.from_dict({"generation": 3})
    with pytest.raises(ValueError, match="tasks"):
        rd.DarwinConfig.from_dict({"tasks": ["cifar"]})
    with pytest.raises(ValueError, match="level"):
        rd.DarwinConfig.from_dict({"digits": {"level": "neuron"}})
    with pytest.raises(ValueError, match="epochs"):
        rd.DarwinConfig.from_dict({"digits": {"epochs": 0}})
    with pytest.raises(ValueError, match="tuning_seeds"):
        rd.DarwinConfig.from_dict({"seeds": [1, 100]})


def test_default_held_out_seeds_are_ten_and_never_tuning_seeds(tmp_path) -> None:
    config = rd.DarwinConfig()
    assert config.levels == ["cluster", "synapse"] and config.tasks == ["digits", "mnist5k"]
    assert config.row_levels(rd.DigitsRow(level="synapse")) == ["synapse", "cluster"]
    with pytest.raises(ValueError, match="disjoint"):
        rd.reproduce(out=tmp_path, seed=90, options={"tasks": ["digits"]})


def test_outcome_checks_both_halves_of_the_target() -> None:
    ancestor = {"mask_synapses": 84_480, "test_accuracy": 0.975}
    assert rd.outcome(ancestor, {"synapses": 1760, "test_accuracy": 0.9667}, 1760)["meets_target"]
    too_big = rd.outcome(ancestor, {"synapses": 1761, "test_accuracy": 0.975}, 1760)
    assert not too_big["meets_target"] and too_big["synapse_reduction"] == 47.97
    too_lossy = rd.outcome(ancestor, {"synapses": 1000, "test_accuracy": 0.9639}, 1760)
    assert not too_lossy["meets_target"] and too_lossy["accuracy_loss_points"] == 1.11


def _seed(loss: float, base_loss: float) -> dict:
    ancestor = {"synapses": 100, "test_accuracy": 0.9, "val_accuracy": 0.9}
    last = {"synapses": 2, "test_accuracy": 0.9 - loss / 100, "val_accuracy": 0.9}
    base = {"synapses": 2, "test_accuracy": 0.9 - base_loss / 100}
    return {
        "generations": [ancestor, last],
        "baselines": {"random": [base]},
        "summary": {
            "accuracy_loss_points": loss,
            "synapse_reduction": 50.0,
            "meets_target": loss <= 1,
            "baselines": {
                "random": {
                    "accuracy_loss_points": base_loss,
                    "synapse_reduction": 50.0,
                    "meets_target": base_loss <= 1,
                }
            },
        },
    }


def test_a_failed_baseline_series_is_counted_not_averaged() -> None:
    seeds = [_seed(0.5, 1.5), _seed(1.5, 2.0), _seed(1.0, 2.5)]
    seeds[0]["baselines"]["random"] = [{"generation": 1, "failed": "EmptyLayerError: ..."}]
    seeds[0]["summary"]["baselines"]["random"] = {"failed": "EmptyLayerError", "meets_target": 0}
    random = summarize(seeds)["baselines"]["random"]
    assert random["failed_seeds"] == 1 and random["accuracy_loss_points"]["n"] == 2
    assert random["loss_minus_evo"]["mean"] == pytest.approx(1.0)  # seeds 1 and 2, paired


def test_summary_gives_intervals_and_paired_differences() -> None:
    summary = summarize([_seed(0.5, 1.5), _seed(1.5, 2.0), _seed(1.0, 2.5)])
    evo = summary["evo_synthesis"]
    assert evo["accuracy_loss_points"]["mean"] == pytest.approx(1.0)
    assert evo["accuracy_loss_points"]["low"] < 1.0 < evo["accuracy_loss_points"]["high"]
    assert evo["fraction_meeting_target"] == pytest.approx(2 / 3)
    assert evo["synapse_reduction"]["mean"] == pytest.approx(50.0)
    paired = summary["baselines"]["random"]["loss_minus_evo"]
    assert paired["mean"] == pytest.approx(1.0) and paired["n"] == 3


def _run(seeds: dict[int, tuple[float, float]], protocol: dict | None = None) -> dict:
    per_seed = [{**_seed(*losses), "seed": s} for s, losses in seeds.items()]
    level = {"seeds": per_seed, "summary": summarize(per_seed), "wall_seconds": 1.0}
    row = {
        "protocol": protocol or {"epochs": 120},
        "facts": {"held_out_seeds": list(seeds)},
        "levels": {"cluster": level},
    }
    return {"rows": {"digits": row}, "tuning_seeds": [100, 101], "load_average": {}}


def test_merged_runs_equal_one_run_over_all_seeds() -> None:
    whole = _run({10: (0.5, 1.5), 11: (1.5, 2.0), 12: (1.0, 2.5)})
    parts = [_run({12: (1.0, 2.5)}), _run({10: (0.5, 1.5), 11: (1.5, 2.0)})]
    merged = merge(parts)
    level = merged["rows"]["digits"]["levels"]["cluster"]
    assert level["summary"] == whole["rows"]["digits"]["levels"]["cluster"]["summary"]
    assert [s["seed"] for s in level["seeds"]] == [10, 11, 12] and level["wall_seconds"] == 2.0
    assert merged["held_out_seeds"] == [10, 11, 12]
    with pytest.raises(ValueError, match="repeats"):
        merge([_run({10: (0.5, 1.5)}), _run({10: (0.5, 1.5)})])
    with pytest.raises(ValueError, match="protocol"):
        merge([_run({10: (0.5, 1.5)}), _run({11: (0.5, 1.5)}, {"epochs": 60})])


def test_tuning_sweeps_one_setting_at_a_time_and_chooses_on_validation() -> None:
    row = rd.DigitsRow(epochs=120)
    found = variants(row, GRIDS["digits"])
    assert found["default"] is row
    assert found["epochs=60"].epochs == 60 and found["epochs=60"].lr == row.lr
    assert "epochs=120" not in found  # the default is run once
    scores = {k: {"val_accuracy": 90.0, "within_target": True} for k in found}
    scores["epochs=240"]["val_accuracy"] = 95.0  # best, but off target: not admissible
    scores["epochs=240"]["within_target"] = False
    scores["epochs=60"]["val_accuracy"] = 91.0
    scores["level=synapse"]["val_accuracy"] = 90.0  # a tie keeps the default
    chosen = choose(row, GRIDS["digits"], scores)
    assert chosen["epochs"] == 60 and chosen["level"] == "cluster"
    assert chosen["lr"] == row.lr


def test_cli_task_flag_is_passed_as_tasks(tmp_path, capsys) -> None:
    from darwin_bench.cli import main

    code = main(["reproduce", "darwin", "--task", "cifar", "--out", str(tmp_path)])
    assert code == 2
    assert "tasks" in capsys.readouterr().err


@pytest.mark.slow
def test_reproduction_contract_on_a_tiny_run(tmp_path) -> None:
    tiny = {"generations": 2, "offspring": 1, "epochs": 1, "ancestor_epochs": 2, "draws": 5}
    options = {"tasks": ["digits"], "seeds": [0, 1], "digits": tiny}
    result = rd.reproduce(out=tmp_path, seed=0, options=options)
    json.dumps(result)
    row = result["rows"]["digits"]
    assert row["facts"]["test_images"] == 360 and row["facts"]["seeds_overlap"] == []
    assert set(row["levels"]) == {"cluster", "synapse"}
    cluster = row["levels"]["cluster"]
    assert set(cluster["summary"]["baselines"]) == {"random-neurons", "magnitude-neurons"}
    for seed in cluster["seeds"]:
        gens = seed["generations"]
        assert [g["generation"] for g in gens] == [0, 1, 2] and gens[0]["synapses"] == 84_480
        assert gens[-1]["synapses"] <= seed["target_synapses"]  # the path reaches the target
        for rows in seed["baselines"].values():  # pruned to evo's live counts
            assert all(b["synapses"] <= g["synapses"] for b, g in zip(rows, gens[1:]))
    assert cluster["summary"]["evo_synthesis"]["accuracy_loss_points"]["n"] == 2
    assert (tmp_path / "darwin.png").exists()


@pytest.mark.parametrize("name", ["random", "magnitude"])
def test_per_synapse_baselines_reach_the_live_count(name: str) -> None:
    """Unstructured pruning leaves dead neurons; the baseline asks for more synapses until
    the *live* count (what evo-synthesis is measured in) is as close under the count as found."""
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=(40, 20)), rng.normal(size=(30, 40)), rng.normal(size=(5, 30))]
    parent = [np.ones(w.shape, dtype=bool) for w in weights]
    count = 60
    plain = dp.BASELINES[name](parent, weights, count, np.random.default_rng(0))
    assert synaptic.live_synapses(plain) < count  # the plain pruning ends under its count
    child = dp._prune_to_live(dp.BASELINES[name], parent, weights, count, np.random.default_rng(0))
    assert 0.9 * count <= synaptic.live_synapses(child) <= count
