"""Re-cost a table: recompute its modeled device costs from the current profiles, no training.

The modeled costs (``latency_ms@<device>``, ``energy_mj@<device>``) are functions of a network's
traced workload and a device profile (:func:`darwin_bench.costs.device_costs`). The workload
depends on the layers and on which weights are exactly zero; trained dense weights and freshly
initialised ones have none, so a network built from its genome gives the workload of the trained
one (:func:`recost_table` checks that the unchanged profiles reproduce the stored columns before
it writes new ones). When a device profile is recalibrated, the table is re-costed in seconds
instead of rebuilt in an hour; everything else (metrics, seconds, exact counts, the measured
host latency) is kept, and the result has a new content hash.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from darwin_bench.costs import CostConfig, cost_kinds, device_costs
from darwin_bench.costs.trace import trace_workload
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces import SearchSpace
from darwin_bench.tables.table import Table
from darwin_bench.tasks import Task


def _modeled(name: str) -> bool:
    return name.startswith("cost:") and "@" in name


def modeled_costs(
    table: Table, task: Task, space: SearchSpace, cost_config: CostConfig
) -> dict[str, np.ndarray]:
    """Every modeled cost column of ``cost_config``'s devices for the table's networks, shaped
    ``(architectures, seeds)`` like the table's cost columns (the same for every seed).

    Raises:
        ValueError: when a genome decodes to another architecture than the table's row.
    """
    example = task.example_input(1)[:1]
    hashes = table.arrays["hashes"]
    columns: dict[str, np.ndarray] = {}
    for row, genome in enumerate(table.genomes):
        architecture = space.decode(genome)
        if architecture.hash != hashes[row].decode("ascii"):
            raise ValueError(f"table row {row}: its genome is not its network in this space")
        with torch_determinism(int(table.seeds[row, 0])):
            workload = trace_workload(task.build(architecture), example)
        for device in cost_config.devices:
            for name, value in device_costs(workload, device).items():
                columns.setdefault(f"cost:{name}", np.empty(len(hashes)))[row] = value
    return {
        name: np.repeat(values[:, None], table.num_seeds, axis=1)
        for name, values in columns.items()
    }


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def recost_table(
    table: Table, task: Task, space: SearchSpace, cost_config: CostConfig
) -> tuple[Table, dict[str, Any]]:
    """The table with its modeled costs recomputed for ``cost_config``'s device profiles.

    Returns:
        ``(table, report)``: the new table (meta ``cost_config`` and ``cost_kinds`` updated, a
        ``recost`` record added) and a JSON-able report (content hashes before and after, the
        largest relative change of each modeled column).

    Raises:
        ValueError: when settings other than the device profiles differ (the measured latency
            protocol or engines: those need ``table build``), or when the table's own profiles
            do not reproduce its stored columns (re-costing would not be sound).
    """
    old, new = table.meta["cost_config"], cost_config.to_dict()
    other = sorted(
        k for k in set(old) | set(new) if k != "devices" and _json(old.get(k)) != _json(new.get(k))
    )
    if other:
        raise ValueError(
            f"cost settings other than device profiles differ ({', '.join(other)}): rebuild the "
            "table with `darwin-bench table build`"
        )
    stored = {n: v for n, v in table.arrays.items() if _modeled(n)}
    now = modeled_costs(table, task, space, cost_config)
    unchanged = [
        d.name for d in cost_config.devices if old["devices"].get(d.name) == new["devices"][d.name]
    ]
    for name in (n for n in now if n.split("@", 1)[1] in unchanged and n in stored):
        if not np.array_equal(now[name], stored[name]):
            raise ValueError(
                f"{name}: the table's own profile does not reproduce its stored values; rebuild "
                "the table with `darwin-bench table build`"
            )
    changed = sorted(set(new["devices"]) - set(unchanged))
    if not changed and set(now) == set(stored):  # nothing to re-cost: the table stays as it is
        return table, _report(table, table, now, stored, new, changed)
    arrays = {n: v for n, v in table.arrays.items() if not _modeled(n)} | now
    costs = sorted(n.split(":", 1)[1] for n in arrays if n.startswith("cost:"))
    record = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "from_content_hash": table.content_hash,
        "devices": new["devices"],
    }
    meta = {
        **table.meta,
        "cost_config": new,
        "cost_kinds": cost_kinds(costs),
        "recost": [*table.meta.get("recost", []), record],
    }
    result = Table(meta, arrays)
    return result, _report(table, result, now, stored, new, changed)


def _report(
    before: Table,
    after: Table,
    now: dict[str, np.ndarray],
    stored: dict[str, np.ndarray],
    settings: dict[str, Any],
    changed: list[str],
) -> dict[str, Any]:
    changes = {}
    for name in sorted(set(now) & set(stored)):
        scale = np.maximum(np.abs(stored[name]), np.finfo(float).tiny)
        changes[name.split(":", 1)[1]] = float(np.max(np.abs(now[name] - stored[name]) / scale))
    return {
        "from_content_hash": before.content_hash,
        "content_hash": after.content_hash,
        "devices": settings["devices"],
        "changed_devices": changed,
        "max_relative_change": changes,
    }
