"""Tabular envs: a live env's problem answered from a table of pre-evaluated networks.

A tabular env is the live proposal (or population, or builder) env of the same task, bounded space,
reward and costs, with the evaluator swapped for a :class:`~darwin_bench.tables.lookup.
TableEvaluator`: every step is a lookup of what training would have given, so a search over
hundreds of seeds takes seconds. What is the same as live: the action space and genomes, the
architectures, rewards, cost kwargs, the ``info`` contract, evaluation ids, the budget kinds
and the after-the-budget behaviour. What differs, by design:

- **Seeds.** Each network was trained with ``num_seeds`` seeds (``table.seeds``); the seed a
  query returns is seed index ``candidate_seed(architecture) % num_seeds``, so it comes from
  the env's RNG (the run seed) and the network, like a live training seed.
- **Fidelity** is ``epochs`` from 1 to the table's largest (every epoch is recorded).
- **Seconds** are the recorded training seconds (``budget_kind="seconds"`` is reproducible).
- Kwargs that only steer live training or measuring (``measure_latency``,
  ``latency_repeats``, ``cache_path``, ``workers``, ``executor``, ``batched``) are accepted and
  have no effect: the costs, measured latency included, are the numbers the build recorded, and
  the networks were trained the way the live evaluator trains them by default (batched where
  the task batches).

Run logs record the table's name and content hash (``problem["table"]`` in the header). A table
built from other data, trainer settings or cost settings than the running code's is still
loaded, with a :class:`TableMismatchWarning` naming what differs (rebuild it with
``darwin-bench table build``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.evaluation import EvalRequest
from darwin_bench.tables.build import BuildPlan
from darwin_bench.tables.lookup import TableEvaluator
from darwin_bench.tables.table import Table, load_table
from envs.builder import BuilderEnv
from envs.core import SearchCore
from envs.population import PopulationEnv
from envs.proposal import ProposalEnv

#: The env kwargs that define a table's problem; a tabular env takes them from its table.
PROBLEM_KWARGS = ("task", "task_kwargs", "space", "space_kwargs")
#: Env kwargs a tabular env accepts and ignores (they steer live training and measuring).
NO_EFFECT = ("measure_latency", "latency_repeats", "cache_path", "workers", "executor", "batched")


class TableMismatchWarning(UserWarning):
    """A table was built from other data, trainer settings or cost settings than the code's."""


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def table_mismatches(
    table: Table, task_spec: Mapping[str, Any], costs: Mapping[str, Any]
) -> list[str]:
    """What differs between a table's build and the running code (empty when nothing)."""
    out = []
    built = table.meta["task_spec"]
    if built.get("data_hash") != task_spec.get("data_hash"):
        out.append(f"data hash {built.get('data_hash')} (now {task_spec.get('data_hash')})")
    if _json(built.get("config")) != _json(task_spec.get("config")):
        out.append(f"trainer settings {built.get('config')} (now {task_spec.get('config')})")
    if _json(table.meta["cost_config"]) != _json(costs):
        out.append("cost settings (device profiles or latency protocol)")
    return out


class TabularCore(SearchCore):
    """A :class:`SearchCore` whose evaluations are table lookups.

    Args:
        table: a packaged table name (e.g. ``"digits-mlp"``) or a ``.npz`` file.
        **kwargs: the live env kwargs. ``task``, ``space`` and their kwargs default to the
            table's and must equal them when given.

    Raises:
        ValueError: for kwargs that contradict the table, or a fidelity it does not hold.
    """

    simulated_seconds = True

    def __init__(self, *, table: str | Path, **kwargs: Any) -> None:
        self.table = load_table(table)
        meta = self.table.meta
        for name in PROBLEM_KWARGS:
            value = meta["problem"].get(name)
            given = kwargs.get(name)
            if given is not None and _json(given) != _json(value):
                raise ValueError(
                    f"{name} must be the table's on a tabular env ({value!r}); got {given!r}"
                )
            kwargs[name] = value
        for name in NO_EFFECT:
            kwargs.pop(name, None)
        latency = meta["cost_config"].get("latency_config", {})
        kwargs.update(measure_latency=True, latency_repeats=latency.get("repeats", 15))
        super().__init__(**kwargs)
        if _json(self.space.describe()) != _json(meta["space"]):
            raise ValueError("the table's space differs from the space these kwargs build")
        unknown = sorted(set(self.fidelity) - {"epochs"})
        if unknown or not 1 <= self.fidelity.get("epochs", 0) <= self.table.max_epochs:
            raise ValueError(
                f"epochs must be in 1..{self.table.max_epochs} on this table (its only "
                f"fidelity); got {self.fidelity}"
            )
        self.evaluator = TableEvaluator(self.table, self.task, self.evaluator.cost_config)
        self._rows: dict[bytes, tuple[int, Architecture]] = {}
        self._valid: dict[tuple[str, tuple[int, ...], bytes], np.ndarray] = {}
        self._run_seeds: dict[int, int] = {}
        self._train_flops_column = self.table.arrays["train_flops"]
        mismatches = table_mismatches(
            self.table, self.task.spec(), self.evaluator.cost_config.to_dict()
        )
        if mismatches:
            warnings.warn(
                TableMismatchWarning(
                    f"table {self.table.path} was built with another {'; '.join(mismatches)}: "
                    "its numbers may not be what live training gives now; rebuild it with "
                    f"`darwin-bench table build --env {meta['env_id']} --out FILE`"
                ),
                stacklevel=3,
            )

    # ------------------------------------------------------------ lookups
    def validate(self, genome: Any) -> np.ndarray:
        """As live, memoized by the genome's values (a table's space is small)."""
        raw = np.asarray(genome)
        key = (raw.dtype.str, raw.shape, raw.tobytes())
        hit = self._valid.get(key)
        if hit is None:
            hit = self._valid[key] = self.space.validate(raw)
            hit.flags.writeable = False
        return hit

    def request_for(self, genome: np.ndarray, fidelity: Mapping[str, int]) -> EvalRequest:
        """The request of a genome: its network, and the table seed the run's RNG picks."""
        key = genome.tobytes()
        hit = self._rows.get(key)
        if hit is None:
            architecture = self.space.decode(genome)
            try:
                hit = self._rows[key] = (self.table.row(architecture.hash), architecture)
            except KeyError:
                raise ValueError(f"genome {genome.tolist()} is not in the table") from None
        row, architecture = hit
        seed = self._run_seeds.get(row)
        if seed is None:  # the run's pick among the table's seeds, fixed for the run
            k = self.candidate_seed(architecture.hash) % self.table.num_seeds
            seed = self._run_seeds[row] = int(self.table.seeds[row, k])
        return EvalRequest(architecture, seed, fidelity, genome.tolist())

    def start_run(self, run_seed: int) -> None:
        """Begin a new run (its seeds pick other table seeds)."""
        super().start_run(run_seed)
        self._run_seeds = {}

    def train_flops_per_sample(self, architecture: Architecture) -> int:
        """The recorded forward + backward FLOPs of one training sample."""
        return int(self._train_flops_column[self.table.row(architecture.hash)])

    def price_of(self, request: EvalRequest) -> float | None:
        """As live, but ``seconds`` are known in advance: the recorded ones."""
        if self.budget_kind == "seconds":
            assert isinstance(self.evaluator, TableEvaluator)
            return self.evaluator.seconds(request)
        return super().price_of(request)

    def describe(self) -> dict[str, Any]:
        """Live settings plus the table's identity (name, content hash, build)."""
        meta = self.table.meta
        return {
            **super().describe(),
            "table": {
                "path": str(self.table.path.name if self.table.path else None),
                "content_hash": self.table.content_hash,
                "format": meta["format"],
                "data_hash": meta["task_spec"].get("data_hash"),
                "seeds": self.table.num_seeds,
                "epochs": self.table.max_epochs,
                "built": meta["build"].get("finished"),
            },
        }


class TabularEnv(ProposalEnv):
    """A proposal env answered from a table (see the module docstring)."""

    core_class = TabularCore


class TabularPopulationEnv(PopulationEnv):
    """A population env answered from a table (see the module docstring)."""

    core_class = TabularCore


class TabularBuilderEnv(BuilderEnv):
    """A builder env (one gene per step) answered from a table (see the module docstring)."""

    core_class = TabularCore


def build_plan(
    env_id: str, env_kwargs: Mapping[str, Any] | None = None, seeds: int = 3
) -> BuildPlan:
    """The build plan of a table for ``env_id`` (a tabular id builds its own table's problem;
    any proposal id builds its bounded space, e.g. with ``space_kwargs`` choices).

    Raises:
        ValueError: for an unknown env, a space too large to tabulate, or a task whose
            fidelity is not ``epochs``.
    """
    from envs.registration import get_entry

    entry = get_entry(env_id)
    kwargs = {**entry.kwargs, **dict(env_kwargs or {})}
    kwargs.pop("table", None)
    core = SearchCore(**kwargs)
    if set(core.fidelity) != {"epochs"}:
        raise ValueError(
            f"env {env_id}: tables need a task whose only fidelity is epochs; its fidelities "
            f"are {sorted(core.fidelity)}"
        )
    problem = {name: kwargs.get(name) for name in PROBLEM_KWARGS}
    return BuildPlan(
        env_id,
        _json(problem),
        core.task,
        core.space,
        core.evaluator.cost_config,
        epochs=core.fidelity["epochs"],
        seeds=seeds,
    )


def table_for(
    env_id: str, table: str | Path | None = None, env_kwargs: Mapping[str, Any] | None = None
) -> tuple[Table, BuildPlan]:
    """The table of ``env_id`` (its ``table`` kwarg, or ``table`` given) and the live problem it
    answers for (what ``table verify`` retrains).

    Raises:
        ValueError: when the env has no table and none is given, or the table's space is not
            the env's.
    """
    from envs.registration import get_entry

    name = table if table is not None else get_entry(env_id).kwargs.get("table")
    if name is None:
        raise ValueError(f"env {env_id} has no table: pass one (--table FILE)")
    loaded = load_table(name)
    kwargs = {**dict(env_kwargs or {}), **loaded.meta["problem"]}
    plan = build_plan(env_id, kwargs, seeds=loaded.num_seeds)
    if _json(plan.space.describe()) != _json(loaded.meta["space"]):
        raise ValueError(f"table {loaded.path} was built for another space than {env_id}'s")
    return loaded, plan
