"""Re-cost a table: recompute its modeled device costs from the current profiles, no training.

The modeled costs (``latency_ms@<device>``, ``energy_mj@<device>``) are functions of a network's
traced workload and a device profile (:func:`darwin_bench.costs.device_costs`). The workload
depends on the layers and on which weights are exactly zero; trained dense weights and freshly
initialised ones have none, so a network built from its genome gives the workload of the trained
one (:func:`recost_table` checks that the unchanged profiles reproduce the stored columns before
it writes new ones). When a device profile is recalibrated, the table is re-costed in seconds
instead of rebuilt in an hour; everything else (metrics, seconds, exact counts, the measured
host latency) is kept, and the result has a new content hash.

A change of the host-latency protocol (``LatencyConfig``, the engines' settings) is a deliberate
operation: ``remeasure=True`` (``table recost --remeasure-latency``) times every network again
with the running protocol and replaces the measured latency columns. Latency depends on the
layers, not on trained values, so each network is timed as built from its genome (as the
build times it once per network); the record in ``meta["recost"]`` names the protocol.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from torch import nn

from darwin_bench.costs import CostConfig, cost_kind, cost_kinds, device_costs, host_latency
from darwin_bench.costs.trace import trace_workload
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces import SearchSpace
from darwin_bench.tables.table import Table
from darwin_bench.tasks import Task


def _modeled(name: str) -> bool:
    return name.startswith("cost:") and "@" in name


def _measured(name: str) -> bool:
    return name.startswith("cost:") and (
        cost_kind(name[5:]) == "measured" or name == "cost:latency_threads"
    )


#: Cost settings of the measured host latency: a change needs ``remeasure=True``.
PROTOCOL_SETTINGS = ("latency_config", "latency_engines")


def _networks(table: Table, task: Task, space: SearchSpace) -> Iterator[tuple[int, nn.Module]]:
    """Each row's network, built from its genome with its first seed.

    Raises:
        ValueError: when a genome decodes to another architecture than the table's row.
    """
    hashes = table.arrays["hashes"]
    for row, genome in enumerate(table.genomes):
        architecture = space.decode(genome)
        if architecture.hash != hashes[row].decode("ascii"):
            raise ValueError(f"table row {row}: its genome is not its network in this space")
        with torch_determinism(int(table.seeds[row, 0])):
            yield row, task.build(architecture)


def _columns(table: Table, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-network values shaped ``(architectures, seeds)`` like the table's cost columns."""
    return {
        f"cost:{name}": np.repeat(values[:, None], table.num_seeds, axis=1)
        for name, values in rows.items()
    }


def modeled_costs(
    table: Table, task: Task, space: SearchSpace, cost_config: CostConfig
) -> dict[str, np.ndarray]:
    """Every modeled cost column of ``cost_config``'s devices for the table's networks, shaped
    ``(architectures, seeds)`` like the table's cost columns (the same for every seed).

    Raises:
        ValueError: when a genome decodes to another architecture than the table's row.
    """
    example = task.example_input(1)[:1]
    rows: dict[str, np.ndarray] = {}
    for row, model in _networks(table, task, space):
        workload = trace_workload(model, example)
        for device in cost_config.devices:
            for name, value in device_costs(workload, device).items():
                rows.setdefault(name, np.empty(table.num_architectures))[row] = value
    return _columns(table, rows)


def measured_costs(
    table: Table, task: Task, space: SearchSpace, cost_config: CostConfig
) -> dict[str, np.ndarray]:
    """The measured host-latency columns, every network timed again with ``cost_config``'s
    protocol, shaped like the table's cost columns.

    Raises:
        ValueError: as :func:`modeled_costs`.
        LatencyError: when a network no longer runs in ONNX Runtime as in PyTorch.
    """
    example = task.example_input(1)[:1]
    rows: dict[str, np.ndarray] = {}
    for row, model in _networks(table, task, space):
        for name, value in host_latency(model, example, cost_config).items():
            rows.setdefault(name, np.empty(table.num_architectures))[row] = value
    return _columns(table, rows)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def recost_table(
    table: Table,
    task: Task,
    space: SearchSpace,
    cost_config: CostConfig,
    remeasure: bool = False,
) -> tuple[Table, dict[str, Any]]:
    """The table with its modeled costs recomputed for ``cost_config``'s device profiles.

    Args:
        remeasure: also time every network again with ``cost_config``'s latency protocol and
            replace the measured latency columns (needed when the protocol changed).

    Returns:
        ``(table, report)``: the new table (meta ``cost_config`` and ``cost_kinds`` updated, a
        ``recost`` record added) and a JSON-able report (content hashes before and after, the
        largest relative change of each modeled column, and of each re-measured column).

    Raises:
        ValueError: when settings other than the device profiles differ (the latency protocol
            without ``remeasure``; anything else needs ``table build``), or when the table's own
            profiles do not reproduce its stored columns (re-costing would not be sound).
    """
    old, new = table.meta["cost_config"], cost_config.to_dict()
    other = sorted(
        k for k in set(old) | set(new) if k != "devices" and _json(old.get(k)) != _json(new.get(k))
    )
    rebuild = [k for k in other if not (remeasure and k in PROTOCOL_SETTINGS)]
    if rebuild:
        hint = (
            "; a changed latency protocol alone is re-timed by `darwin-bench table recost "
            "--remeasure-latency`"
            if set(rebuild) <= set(PROTOCOL_SETTINGS)
            else ""
        )
        raise ValueError(
            f"cost settings other than device profiles differ ({', '.join(rebuild)}): rebuild the "
            f"table with `darwin-bench table build`{hint}"
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
    if not remeasure and not changed and set(now) == set(stored):  # nothing to re-cost
        return table, _report(table, table, now, stored, new, changed)
    if remeasure:
        timed = measured_costs(table, task, space, cost_config)
        stored |= {n: v for n, v in table.arrays.items() if _measured(n)}
        now |= timed
        arrays = {n: v for n, v in table.arrays.items() if not _modeled(n) and not _measured(n)}
    else:
        arrays = {n: v for n, v in table.arrays.items() if not _modeled(n)}
    arrays |= now
    costs = sorted(n.split(":", 1)[1] for n in arrays if n.startswith("cost:"))
    record: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "from_content_hash": table.content_hash,
        "devices": new["devices"],
    }
    if remeasure:
        record["remeasured"] = {k: new.get(k) for k in PROTOCOL_SETTINGS}
    meta = {
        **table.meta,
        "cost_config": new,
        "cost_kinds": cost_kinds(costs),
        "recost": [*table.meta.get("recost", []), record],
    }
    result = Table(meta, arrays)
    report = _report(table, result, now, stored, new, changed)
    if remeasure:
        ratio = timed["cost:latency_ms"][:, 0] / table.arrays["cost:latency_ms"][:, 0]
        report["remeasured"] = {
            **record["remeasured"],
            "costs": sorted(n.split(":", 1)[1] for n in timed),
            "latency_ms_new_over_old": {
                "median": float(np.nanmedian(ratio)),
                "min": float(np.nanmin(ratio)),
                "max": float(np.nanmax(ratio)),
            },
        }
    return result, report


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
