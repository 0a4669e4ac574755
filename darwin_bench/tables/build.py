"""Build a table: train every network of a bounded space with several seeds, record everything.

:func:`build_table` trains each ``(architecture, seed index)`` once for the largest fidelity
with :meth:`Task.learning_curve` (metrics after every epoch), measures the trained network's
costs with the live env's :class:`~darwin_bench.costs.CostConfig` and counts its training
FLOPs. Every finished entry is appended (and fsynced) to ``<out>.partial`` as one JSON line,
so a killed build resumes where it stopped; when every entry is done the table is written to
``<out>`` and the partial file removed. Entries run in batches through any executor
(``(fn, items) -> results``: serial, a process pool, Ray), so the result never depends on
where an entry ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.budgets import architecture_train_flops
from darwin_bench.costs import CostConfig, cost_kinds, measure_costs
from darwin_bench.evaluation.executors import Executor, serial
from darwin_bench.seeding import derive_seed, torch_determinism
from darwin_bench.spaces import SearchSpace
from darwin_bench.tables.table import FORMAT, Table
from darwin_bench.tasks import Task
from darwin_bench.version import __version__

#: Salt of the tables' training seeds: seed ``k`` of an architecture is
#: ``derive_seed(SEED_SALT, k, architecture.hash)``.
SEED_SALT = "darwin_bench.table"


def table_seed(index: int, architecture_hash: str) -> int:
    """The training seed of seed index ``index`` of an architecture in every table."""
    return derive_seed(SEED_SALT, index, architecture_hash)


@dataclass
class BuildPlan:
    """What a build trains (made from a live env by ``envs.tabular.build_plan``).

    Attributes:
        env_id: the env id the table serves.
        problem: the env kwargs that define the problem (task, space and their kwargs).
        task: the live task.
        space: the live (bounded) space.
        cost_config: the live env's cost settings.
        epochs: the largest fidelity (every epoch up to it is recorded).
        seeds: training seeds per architecture.
    """

    env_id: str
    problem: dict[str, Any]
    task: Task
    space: SearchSpace
    cost_config: CostConfig
    epochs: int
    seeds: int = 3
    genomes: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.genomes:
            self.genomes = self.space.all_genomes()

    @property
    def identity(self) -> dict[str, Any]:
        """What must match for a partial build to be resumed."""
        return {
            "env_id": self.env_id,
            "problem": self.problem,
            "task_spec": self.task.spec(),
            "space": self.space.describe(),
            "cost_config": self.cost_config.to_dict(),
            "epochs": self.epochs,
            "seeds": self.seeds,
            "architectures": len(self.genomes),
        }

    def jobs(self) -> list[tuple[int, int, Architecture, int]]:
        """Every ``(row, seed index, architecture, seed)`` of the table, row by row."""
        out = []
        for row, genome in enumerate(self.genomes):
            architecture = self.space.decode(genome)
            for k in range(self.seeds):
                out.append((row, k, architecture, table_seed(k, architecture.hash)))
        return out


_WARM = False


def build_entries(
    task: Task, cost_config: CostConfig, epochs: int, batch: Sequence[tuple[int, int, Any, int]]
) -> list[dict[str, Any]]:
    """Train, cost and count one batch of entries (a module-level function for executors).

    The batch trains the way the live evaluator would train it (:meth:`Task.learning_curves`:
    batched together where the task batches). The first call in a process trains one network
    for an epoch untimed first, so that one-time start-up work (thread pools, allocators) does
    not land in an entry's seconds.
    """
    global _WARM
    if not _WARM and batch:
        task.learning_curves([(batch[0][2], 0)], 1)
        _WARM = True
    curves = task.learning_curves([(a, seed) for _, _, a, seed in batch], epochs)
    out = []
    for (row, k, architecture, seed), curve in zip(batch, curves):
        model = curve.model
        if epochs in curve.failures or model is None:  # costed untrained, as live failures are
            with torch_determinism(seed):
                model = task.build(architecture)
        # Host latency is timed once per network (seed index 0): it depends on the layers, not
        # on trained values; the other seeds' entries get the same figures at assembly.
        config = cost_config if k == 0 else replace(cost_config, latency=False)
        out.append(
            {
                "row": row,
                "k": k,
                "seed": seed,
                "metrics": curve.metrics,
                "test_metrics": curve.test_metrics,
                "seconds": curve.seconds,
                "failures": {str(e): r for e, r in curve.failures.items()},
                "costs": measure_costs(model, task.example_input(1), config),
                "train_flops": architecture_train_flops(task, architecture),
            }
        )
    return out


def _read_partial(path: Path, identity: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """The entries a killed build left (a torn last line is dropped).

    Raises:
        ValueError: when the partial file was made for another problem or settings.
    """
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0]) if lines else {}
    if header.get("identity") != json.loads(json.dumps(identity)):
        raise ValueError(
            f"out: {path} is a partial build of another problem or settings; delete it or use "
            "another --out"
        )
    done: dict[tuple[int, int], dict[str, Any]] = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            break  # the torn last line of a killed build
        done[(int(entry["row"]), int(entry["k"]))] = entry
    return done


def build_table(
    plan: BuildPlan,
    out: str | Path,
    *,
    executor: Executor = serial,
    batch_size: int = 4,
    on_entry: Callable[[int, int], None] | None = None,
) -> Table:
    """Build (or resume building) the table of ``plan`` and write it to ``out``.

    Args:
        plan: the problem, its networks, seeds and epochs.
        out: the ``.npz`` file to write; ``<out>.partial`` keeps finished entries meanwhile.
        executor: runs batches of entries (results in input order).
        batch_size: entries per executor item.
        on_entry: called with ``(done, total)`` after each finished entry (progress).

    Returns:
        The table, also written to ``out``.
    """
    out = Path(out)
    partial_path = out.with_name(out.name + ".partial")
    identity = plan.identity
    done = _read_partial(partial_path, identity)
    jobs = [j for j in plan.jobs() if (j[0], j[1]) not in done]
    batches = [jobs[i : i + batch_size] for i in range(0, len(jobs), batch_size)]
    per_call = max(1, int(getattr(executor, "workers", 1)))
    work = partial(build_entries, plan.task, plan.cost_config, plan.epochs)
    total = len(plan.genomes) * plan.seeds
    started = time.time()
    load = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Start the partial file afresh from what survived (a killed build may have left a torn
    # last line, which must not end up between entries), then append.
    tmp = partial_path.with_name(partial_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for record in [{"identity": identity}, *done.values()]:
            f.write(json.dumps(record) + "\n")
    os.replace(tmp, partial_path)
    with partial_path.open("a", encoding="utf-8") as f:
        for i in range(0, len(batches), per_call):
            for entries in executor(work, batches[i : i + per_call]):
                for entry in entries:
                    f.write(json.dumps(entry) + "\n")
                    done[(entry["row"], entry["k"])] = entry
                    if on_entry is not None:
                        on_entry(len(done), total)
                f.flush()
                os.fsync(f.fileno())
    build = {
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds_last_session": round(time.time() - started, 1),
        "load_average_at_start": [round(x, 2) for x in load],
        "workers": per_call,
        "code": code_versions(),
    }
    table = assemble(plan, done, build)
    table.path = table.save(out)
    partial_path.unlink()
    return table


def code_versions() -> dict[str, Any]:
    """The software a table was built with (the git commit when run from a checkout)."""
    import torch

    from darwin_bench.runlog import machine_info

    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    return {
        "darwin_bench": __version__,
        "git_commit": commit,
        "torch": torch.__version__,
        "machine": machine_info(),
    }


def _compact(values: np.ndarray) -> np.ndarray:
    """float32 when every value survives the round trip exactly (NaN included), else float64."""
    small = values.astype(np.float32)
    return small if np.array_equal(small.astype(np.float64), values, equal_nan=True) else values


def assemble(
    plan: BuildPlan, entries: dict[tuple[int, int], dict[str, Any]], build: dict[str, Any]
) -> Table:
    """Turn finished entries into a :class:`Table` (see ``table.py`` for the layout)."""
    a, s, e = len(plan.genomes), plan.seeds, plan.epochs
    arrays: dict[str, np.ndarray] = {
        "genomes": np.stack(plan.genomes).astype(np.int64),
        "hashes": np.array(
            [plan.space.decode(g).hash.encode("ascii") for g in plan.genomes], dtype="S64"
        ),
        "seeds": np.zeros((a, s), dtype=np.int64),
        "seconds": np.zeros((a, s, e), dtype=np.float32),
        "failure": np.zeros((a, s, e), dtype=np.uint8),
        "train_flops": np.zeros(a, dtype=np.int64),
    }
    series: dict[str, np.ndarray] = {}
    reasons: list[str] = []
    for (row, k), entry in entries.items():
        arrays["seeds"][row, k] = entry["seed"]
        arrays["seconds"][row, k] = entry["seconds"]
        arrays["train_flops"][row] = entry["train_flops"]
        for prefix, key in (("metric", "metrics"), ("test", "test_metrics")):
            for epoch, values in enumerate(entry[key]):
                for name, value in values.items():
                    grid = series.setdefault(f"{prefix}:{name}", np.full((a, s, e), np.nan))
                    grid[row, k, epoch] = value
        for name, value in entry["costs"].items():
            series.setdefault(f"cost:{name}", np.full((a, s), np.nan))[row, k] = value
        for epoch, reason in entry["failures"].items():
            if reason not in reasons:
                reasons.append(reason)
            arrays["failure"][row, k, int(epoch) - 1] = reasons.index(reason) + 1
    if len(reasons) > 255:
        raise ValueError(f"a table holds at most 255 distinct failure reasons; got {len(reasons)}")
    for name, values in series.items():
        if name.startswith("cost:"):  # costs timed for seed index 0 only (see build_entries)
            missing = np.isnan(values) & ~np.isnan(values[:, :1])
            values[missing] = np.broadcast_to(values[:, :1], values.shape)[missing]
        arrays[name] = values if name.startswith("cost:") else _compact(values)
    costs = sorted(n.split(":", 1)[1] for n in series if n.startswith("cost:"))
    meta = {
        "format": FORMAT,
        **plan.identity,
        "trainer": "the live evaluator's (Task.learning_curves: batched where the task batches)",
        "reasons": reasons,
        "cost_kinds": cost_kinds(costs),
        "build": build,
    }
    json.dumps(meta, allow_nan=False)  # a ValueError now rather than when hashing later
    return Table(meta, arrays)
