"""The shipped tables: one per tabular env, the issue's sizes, under 10 MB together, fast to
load, built by the running code (when this fails after a change to the data, the trainer or
the cost settings: rebuild with ``darwin-bench table build``, docs/tabular.md), and a random
entry retrained live agrees with its table; docs/tabular.md's quick start runs as written."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from darwin_bench.tables import Table, packaged_tables, table_path
from darwin_bench.tables.verify import verify_table
from envs.registration import ENVS
from envs.tabular import table_for, table_mismatches

#: The issue's minimum sizes (architectures) of the shipped tracks.
MINIMUM = {"darwin_bench/Digits-MLP-Tab-v0": 1000, "darwin_bench/Digits-CNN-Tab-v0": 500}
TABLES = {e.id: e.kwargs["table"] for e in ENVS if "table" in e.kwargs and e.form == "proposal"}
TRACKS = [pytest.param(env_id, id=env_id) for env_id in TABLES]
#: Every table the built-in registry names, taken when the module is collected (before other
#: tests' fixtures add tracks on tables of their own to the registry).
SHIPPED = {e.kwargs["table"] for e in ENVS if "table" in e.kwargs}


def test_every_track_has_its_table_and_they_fit_the_package() -> None:
    names = SHIPPED
    assert names <= set(packaged_tables())
    assert set(MINIMUM) <= set(TABLES)
    assert sum(table_path(n).stat().st_size for n in names) <= 10 * 2**20


@pytest.mark.parametrize("env_id", TRACKS)
def test_a_shipped_table_meets_the_issue_and_matches_the_code(env_id: str) -> None:
    start = time.perf_counter()
    table = Table.load(table_path(TABLES[env_id]))  # cold: not the per-process cache
    assert time.perf_counter() - start < 1.0
    assert table.num_architectures >= MINIMUM.get(env_id, 1)
    assert table.num_seeds >= 3
    _, plan = table_for(env_id)
    assert table.max_epochs == plan.epochs  # every epoch up to the env's largest fidelity
    assert table_mismatches(table, plan.task.spec(), plan.cost_config.to_dict()) == []


@pytest.mark.parametrize("env_id", TRACKS)
def test_a_random_shipped_entry_retrains_to_its_table(env_id: str) -> None:
    table, plan = table_for(env_id)
    report = verify_table(table, plan.task, plan.space, plan.cost_config, sample=1, seed=3)
    assert report["passed"], report["entries"]


def test_the_docs_quick_start_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "tabular.md"
    block = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)[0]
    exec(compile(block, str(doc), "exec"), {})
    accuracy, flops, used = capsys.readouterr().out.split()
    assert 0.0 < float(accuracy) <= 1.0 and float(flops) > 0 and float(used) == 200
