"""`TableEvaluator`: the evaluator of tabular envs, answering from a table instead of training.

It turns a request (architecture, one of the table's seeds, a fidelity) into the
:class:`~darwin_bench.evaluation.Evaluation` the live evaluator would have produced for it: the
same evaluation id (computed by a live :class:`~darwin_bench.evaluation.Evaluator` with the
same task and cost settings), metrics, test metrics and costs as the build recorded them, and
the failure rules of ``run_evaluation`` (a recorded failure, or a non-finite search-facing
metric, is a ``failed`` evaluation; a non-finite test metric is left out). ``train_seconds``
and ``wall_seconds`` are the recorded seconds of a fit of that many epochs (a failed fit:
``train_seconds`` 0 and ``wall_seconds`` the time until it failed, as live).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator
from darwin_bench.tables.table import Table
from darwin_bench.tasks import Task

#: One looked-up entry: (evaluation id, status, reason, metrics, test metrics, seconds).
_Entry = tuple[str, str, str, dict[str, float], dict[str, float], float]


class TableEvaluator(Evaluator):
    """Evaluates requests by table lookup (no training, microseconds each).

    Args:
        table: the table.
        task: the live task (fidelity checks and evaluation ids).
        cost_config: the cost settings the table was built with (evaluation ids).

    Evaluation ids are the live :meth:`Evaluator.key` of a batching evaluator (tables are built
    the way it trains: batched where the task batches); the cache only receives the evaluations
    a resumed run preloads, which lookups never need.
    """

    def __init__(self, table: Table, task: Task, cost_config: CostConfig) -> None:
        super().__init__(task, cost_config=cost_config, batched=True)
        self.table = table
        self._entries: dict[tuple[int, int, int], _Entry] = {}
        self._costs: dict[tuple[int, int], dict[str, float]] = {}
        self._seeds: dict[int, list[int]] = {}
        arrays = table.arrays
        self._metrics = {n: arrays[f"metric:{n}"] for n in table.metric_names}
        self._tests = {n: arrays[f"test:{n}"] for n in table.test_metric_names}
        self._cost_arrays = {n: arrays[f"cost:{n}"] for n in table.cost_names}

    def locate(self, request: EvalRequest) -> tuple[int, int, int]:
        """``(row, seed index, epochs)`` of a request.

        Raises:
            ValueError: for a network, seed or epochs the table does not hold.
        """
        try:
            row = self.table.row(request.architecture.hash)
        except KeyError:
            raise ValueError(
                f"architecture {request.architecture.hash[:12]} is not in the table"
            ) from None
        seeds = self._seeds.get(row)
        if seeds is None:
            seeds = self._seeds[row] = self.table.seeds[row].tolist()
        if request.seed not in seeds:
            raise ValueError(f"seed {request.seed} is not one of the table's seeds {seeds}")
        epochs = int(request.fidelity.get("epochs", self.table.max_epochs))
        if not 1 <= epochs <= self.table.max_epochs:
            raise ValueError(
                f"epochs must be in 1..{self.table.max_epochs} on this table; got {epochs}"
            )
        return row, seeds.index(request.seed), epochs

    def seconds(self, request: EvalRequest) -> float:
        """The recorded seconds of a request (what a ``seconds`` budget is charged)."""
        row, k, epochs = self.locate(request)
        return float(self.table.arrays["seconds"][row, k, epochs - 1])

    def _entry(self, request: EvalRequest, row: int, k: int, epochs: int) -> _Entry:
        at = (row, k, epochs - 1)
        seconds = float(self.table.arrays["seconds"][at])
        code = int(self.table.arrays["failure"][at])
        key = self.key(request)
        if code:
            return key, "failed", self.table.reason(code), {}, {}, seconds
        metrics = {n: float(v[at]) for n, v in self._metrics.items()}
        tests = {n: float(v[at]) for n, v in self._tests.items() if math.isfinite(v[at])}
        bad = [n for n, v in metrics.items() if not math.isfinite(v)]
        if bad:
            return key, "failed", f"FloatingPointError: non-finite metrics {bad}", {}, {}, seconds
        return key, "ok", "", metrics, tests, seconds

    def _costs_of(self, row: int, k: int) -> dict[str, float]:
        if (row, k) not in self._costs:
            values = {n: float(v[row, k]) for n, v in self._cost_arrays.items()}
            self._costs[(row, k)] = {n: v for n, v in values.items() if math.isfinite(v)}
        return self._costs[(row, k)]

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[Evaluation]:
        """Look every request up; results in the order of ``requests``."""
        out = []
        for request in requests:
            row, k, epochs = self.locate(request)
            entry = self._entries.get((row, k, epochs))
            if entry is None:
                entry = self._entries[(row, k, epochs)] = self._entry(request, row, k, epochs)
            key, status, reason, metrics, tests, seconds = entry
            out.append(
                Evaluation(
                    evaluation_id=key,
                    architecture=request.architecture.to_dict(),
                    seed=int(request.seed),
                    fidelity={**request.fidelity, "epochs": epochs},
                    status=status,  # type: ignore[arg-type]
                    reason=reason,
                    metrics=dict(metrics),
                    test_metrics=dict(tests),
                    costs=dict(self._costs_of(row, k)),
                    train_seconds=seconds if status == "ok" else 0.0,
                    wall_seconds=seconds,
                    genome=[int(g) for g in request.genome] if request.genome is not None else None,
                )
            )
        self.stats["requested"] += len(requests)
        return out
