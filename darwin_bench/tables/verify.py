"""Verify a table: retrain a random sample of its entries live and compare.

Each sampled entry (a network, one of its seeds, a random epoch count) is evaluated twice: by
a live :class:`~darwin_bench.evaluation.Evaluator` (it trains, exactly as an env would) and by
the table's :class:`~darwin_bench.tables.lookup.TableEvaluator`. On the platform the table was
built on (same OS, CPU, Python and torch) the two must agree **exactly**: the same evaluation
id, status, every validation and test metric bit for bit, every exact and modeled cost.
Elsewhere floating-point differences grow through training, so agreement means **within the
tolerance**: validation and test accuracy within :data:`ACCURACY_TOLERANCE` (absolute) and
losses within :data:`LOSS_TOLERANCE` (relative) for at least :data:`AGREEMENT_ELSEWHERE` of the
entries. Measured costs (host latency) and seconds are only reported, as ratios.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from darwin_bench.costs import CostConfig, cost_kind
from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator
from darwin_bench.evaluation.executors import Executor, serial
from darwin_bench.spaces import SearchSpace
from darwin_bench.tables.lookup import TableEvaluator
from darwin_bench.tables.table import Table
from darwin_bench.tasks import Task

#: Largest accuracy difference (absolute) that agrees across platforms.
ACCURACY_TOLERANCE = 0.02
#: Largest loss difference (relative) that agrees across platforms.
LOSS_TOLERANCE = 0.10
#: Share of entries that must agree across platforms.
AGREEMENT_ELSEWHERE = 0.9
#: The machine facts that make "the same platform".
PLATFORM_KEYS = ("platform", "processor", "python", "torch")


def same_platform(table: Table) -> bool:
    """True when this machine matches the one the table was built on."""
    from darwin_bench.runlog import machine_info

    built = table.meta.get("build", {}).get("code", {}).get("machine", {})
    here = machine_info()
    return all(built.get(k) == here.get(k) for k in PLATFORM_KEYS)


def compare(live: Evaluation, looked_up: Evaluation) -> dict[str, Any]:
    """How one live evaluation and its table entry differ."""
    metrics = {**live.metrics, **live.test_metrics}
    recorded = {**looked_up.metrics, **looked_up.test_metrics}
    diffs = {
        name: abs(metrics[name] - recorded[name]) if name in recorded else math.inf
        for name in metrics
    }
    within = all(
        d <= (ACCURACY_TOLERANCE if "accuracy" in name else LOSS_TOLERANCE * abs(metrics[name]))
        for name, d in diffs.items()
        if "accuracy" in name or "loss" in name
    )
    fixed = [n for n in live.costs if cost_kind(n) != "measured"]
    cost_diffs = [n for n in fixed if looked_up.costs.get(n) != live.costs[n]]
    measured = live.costs.get("latency_ms"), looked_up.costs.get("latency_ms")
    return {
        "architecture": live.architecture,
        "seed": live.seed,
        "epochs": live.fidelity.get("epochs"),
        "same_id": live.evaluation_id == looked_up.evaluation_id,
        "same_status": live.status == looked_up.status,
        "exact": live.status == looked_up.status
        and metrics == recorded
        and not cost_diffs
        and live.evaluation_id == looked_up.evaluation_id,
        "within_tolerance": live.status == looked_up.status and within,
        "metric_differences": diffs,
        "cost_differences": cost_diffs,
        "latency_ratio": _ratio(*measured),
        "seconds_ratio": _ratio(live.train_seconds, looked_up.train_seconds),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def verify_table(
    table: Table,
    task: Task,
    space: SearchSpace,
    cost_config: CostConfig,
    *,
    sample: int,
    seed: int = 0,
    executor: Executor = serial,
    on_entry: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Retrain ``sample`` random entries live and compare them with the table.

    Args:
        table: the table.
        task, space, cost_config: the live problem (as the env builds it).
        sample: entries to retrain (at most every entry).
        seed: which entries and epoch counts are drawn.
        executor: where the live trainings run.
        on_entry: called with ``(done, total)`` after each entry (progress).

    Returns:
        A JSON-able report: per-entry comparisons, the exact and within-tolerance shares, and
        ``passed`` (all exact on the build's platform; at least :data:`AGREEMENT_ELSEWHERE`
        within tolerance elsewhere).
    """
    rng = np.random.default_rng(seed)
    cells = table.num_architectures * table.num_seeds
    picks = rng.choice(cells, size=min(int(sample), cells), replace=False)
    live = Evaluator(task, cost_config=cost_config, executor=executor, batched=True)
    lookup = TableEvaluator(table, task, cost_config)
    entries = []
    for i, cell in enumerate(picks.tolist()):
        row, k = divmod(int(cell), table.num_seeds)
        epochs = int(rng.integers(1, table.max_epochs + 1))
        request = EvalRequest(
            space.decode(table.genomes[row]), int(table.seeds[row, k]), {"epochs": epochs}
        )
        entries.append(compare(live.evaluate([request])[0], lookup.evaluate([request])[0]))
        if on_entry is not None:
            on_entry(i + 1, len(picks))
    here = same_platform(table)
    n = max(1, len(entries))
    exact = sum(e["exact"] for e in entries) / n
    within = sum(e["within_tolerance"] for e in entries) / n
    return {
        "table": str(table.path),
        "content_hash": table.content_hash,
        "sample": len(entries),
        "seed": seed,
        "same_platform": here,
        "exact": exact,
        "within_tolerance": within,
        "tolerance": {
            "accuracy_abs": ACCURACY_TOLERANCE,
            "loss_rel": LOSS_TOLERANCE,
            "share_elsewhere": AGREEMENT_ELSEWHERE,
        },
        "passed": exact == 1.0 if here else within >= AGREEMENT_ELSEWHERE,
        "entries": entries,
    }
