"""table verify: retrained entries agree exactly on the build's platform; tampering is caught."""

from __future__ import annotations

from pathlib import Path

from tiny_tables import LIVE, TINY_CNN, TINY_MLP

from darwin_bench.tables import Table
from darwin_bench.tables.verify import verify_table
from envs.tabular import build_plan


def test_a_fresh_table_verifies_exactly(tiny_tables: dict) -> None:
    for kind, kwargs in (("mlp", TINY_MLP), ("cnn", TINY_CNN)):
        plan = build_plan(LIVE[kind], kwargs)
        report = verify_table(
            Table.load(tiny_tables[kind]), plan.task, plan.space, plan.cost_config, sample=3
        )
        assert report["same_platform"] and report["passed"]
        assert report["exact"] == 1.0 and report["sample"] == 3
        for entry in report["entries"]:
            assert entry["same_id"] and not entry["cost_differences"]
            assert all(d == 0.0 for d in entry["metric_differences"].values())


def test_a_tampered_table_fails(tiny_tables: dict, tmp_path: Path) -> None:
    table = Table.load(tiny_tables["mlp"])
    arrays = dict(table.arrays)
    arrays["metric:accuracy"] = arrays["metric:accuracy"] - np_step()
    tampered = Table.load(Table(table.meta, arrays).save(tmp_path / "tampered.npz"))
    plan = build_plan(LIVE["mlp"], TINY_MLP)
    report = verify_table(tampered, plan.task, plan.space, plan.cost_config, sample=2)
    assert report["exact"] == 0.0 and not report["passed"]
    assert report["within_tolerance"] == 1.0  # one validation image: within the tolerance


def np_step() -> float:
    return 1 / 360  # one validation image of Digits
