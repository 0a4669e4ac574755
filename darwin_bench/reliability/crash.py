"""The crash harness: SIGKILL real runs at random points, resume them, compare the logs.

For every target (an agent on an env with a small budget) the harness first runs the
``darwin-bench run`` command once, uninterrupted, as the reference. Then it runs *chains*:
the same command in a fresh folder, killed with ``SIGKILL`` at a random point, started again
(which resumes the killed run from its log), killed again, and so on until a run finishes;
the finished log must equal the reference in everything a run determines (header settings,
every evaluation's id, architecture, seed, fidelity, status, metrics, costs, reward and step,
and the footer), wall times aside.

Kill points: once the process has opened its log (resuming rewrites it, so a new inode says
so), the harness waits until ``j`` evaluations are on disk, ``j`` drawn uniformly from
``0..budget - 1`` at every kill (no wait when the log already holds ``j``: the kill lands while
the resumed run replays), then a further random delay up to one evaluation's median wall
time, then kills. Kills so land while a resumed run replays its log, while a network trains,
between evaluations, and (when the delay runs past the last evaluation) after it; the report
counts each kill by what the log held at that moment (:data:`PHASES`). Every process is a real
``python -m darwin_bench.cli run`` with its own imports; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_bench.runlog import read_runlog

#: What may differ between two runs of the same settings: when and on which machine they ran.
TIMING_KEYS = {
    "header": {"started", "machine"},
    "evaluation": {"wall_seconds", "train_seconds"},
    "footer": {"finished", "seconds"},
}

FAST = {"epochs": 1, "measure_latency": False}

#: At most this many kills per chain (one run killed and resumed until it finishes).
KILLS_PER_CHAIN = 3


@dataclass(frozen=True)
class Target:
    """One run the harness kills: an agent on an env, with a small budget."""

    agent: str
    env: str
    budget: int
    env_kwargs: dict[str, Any] = field(default_factory=lambda: dict(FAST))
    agent_config: dict[str, Any] = field(default_factory=dict)

    def command(self, out: Path, python: str = sys.executable) -> list[str]:
        """The ``darwin-bench run`` command line of this target."""
        return [
            python, "-m", "darwin_bench.cli", "run", "--agent", self.agent, "--env", self.env,
            "--budget", str(self.budget), "--seed", "0", "--out", str(out), "--no-progress",
            "--env-kwargs", json.dumps(self.env_kwargs),
            "--agent-config", json.dumps(self.agent_config),
        ]  # fmt: skip


#: The agents of issue 12, each on an env of its form.
TARGETS: tuple[Target, ...] = (
    Target("random", "darwin_bench/Digits-MLP-v0", 8),
    Target("ga", "darwin_bench/Digits-MLP-v0", 8, agent_config={"population_size": 4}),
    Target("sh", "darwin_bench/Digits-MLP-v0", 9, {"epochs": 3, "measure_latency": False}),
    Target(
        "evo-synthesis",
        "darwin_bench/Digits-Synapses-v0",
        4,
        {"epochs": 1, "measure_latency": False, "task_kwargs": {"ancestor_epochs": 2}},
        {"offspring": 2},
    ),
    Target("ppo", "darwin_bench/Digits-MLP-Builder-v0", 6, agent_config={"n_steps": 20}),
)


def comparable(path: Path) -> dict[str, Any]:
    """What a run determines, from its log: every line without its timing keys."""
    run = read_runlog(path)
    evaluations = [
        {k: v for k, v in e.to_dict().items() if k not in TIMING_KEYS["evaluation"]}
        for e in run.evaluations
    ]
    drop = TIMING_KEYS["header"]
    header = {k: v for k, v in run.header.items() if k not in drop}
    footer = {k: v for k, v in (run.footer or {}).items() if k not in TIMING_KEYS["footer"]}
    return {"header": header, "evaluations": evaluations, "footer": footer}


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Where two :func:`comparable` logs differ (empty when they are equal)."""
    out = [f"header.{k}" for k in sorted(set(a["header"]) | set(b["header"]))
           if a["header"].get(k) != b["header"].get(k)]  # fmt: skip
    if len(a["evaluations"]) != len(b["evaluations"]):
        out.append(f"evaluations: {len(a['evaluations'])} vs {len(b['evaluations'])}")
    for i, (x, y) in enumerate(zip(a["evaluations"], b["evaluations"])):
        out += [f"evaluations[{i}].{k}" for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    out += [f"footer.{k}" for k in sorted(set(a["footer"]) | set(b["footer"]))
            if a["footer"].get(k) != b["footer"].get(k)]  # fmt: skip
    return out


def log_in(folder: Path) -> Path | None:
    """The run log ``darwin-bench run`` wrote in ``folder`` (one run per folder here)."""
    return next(iter(sorted(folder.glob("*.jsonl"))), None)


@dataclass(frozen=True)
class OnDisk:
    """What a run's log holds at one moment."""

    evaluations: int = 0
    footer: bool = False
    torn: bool = False  # a last line without its newline: a write in progress


def on_disk(folder: Path) -> OnDisk:
    """Complete evaluation lines in the folder's log, its footer, a torn last line."""
    path = log_in(folder)
    try:
        data = path.read_bytes() if path is not None else b""
    except FileNotFoundError:
        return OnDisk()
    *complete, last = data.split(b"\n")
    return OnDisk(
        sum(b'"type": "evaluation"' in line for line in complete),
        any(b'"type": "footer"' in line for line in complete),
        last != b"",
    )


def _inode(folder: Path) -> int | None:
    path = log_in(folder)
    try:
        return os.stat(path).st_ino if path is not None else None
    except FileNotFoundError:
        return None


#: Where a kill can land, by what the log held at that moment.
PHASES = ("before_last_evaluation", "after_last_evaluation", "after_footer", "inside_a_write")


@dataclass
class Chain:
    """One killed-and-resumed run: what happened to it."""

    kills: int = 0
    processes: int = 0
    kill_points: list[int] = field(default_factory=list)  # evaluations on disk at each kill
    phases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    seconds: float = 0.0

    def record(self, disk: OnDisk, budget: int) -> None:
        """Count a kill that found ``disk`` on disk."""
        self.kills += 1
        self.kill_points.append(disk.evaluations)
        if disk.torn:
            self.phases["inside_a_write"] += 1
        elif disk.footer:
            self.phases["after_footer"] += 1  # the run was done; the CLI was plotting
        elif disk.evaluations >= budget:
            self.phases["after_last_evaluation"] += 1
        else:
            self.phases["before_last_evaluation"] += 1


def run_chain(
    target: Target,
    out: Path,
    rng: random.Random,
    eval_seconds: float,
    max_kills: int,
    python: str = sys.executable,
) -> Chain:
    """Kill the target's run at random points (at most ``max_kills`` times) until it ends."""
    chain, start = Chain(), time.perf_counter()
    while True:
        inode = _inode(out)
        proc = subprocess.Popen(
            target.command(out, python), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        chain.processes += 1
        if chain.kills >= max_kills:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"{target.agent}: final resume failed: {err.decode()[-500:]}")
            break
        while proc.poll() is None and _inode(out) == inode:
            time.sleep(0.01)  # until this process opens (or re-opens) its log
        # Uniform over the whole run at every kill (not over what is left, which crowds a
        # chain's later kills at its end); a point already on disk kills during the replay.
        point = rng.randint(0, target.budget - 1)
        while proc.poll() is None and on_disk(out).evaluations < point:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, eval_seconds))
        if proc.poll() is not None:
            if proc.returncode != 0:
                _, err = proc.communicate()
                raise RuntimeError(f"{target.agent}: run failed: {err.decode()[-500:]}")
            break  # it finished before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        chain.record(on_disk(out), target.budget)
    chain.seconds = time.perf_counter() - start
    return chain


def crash_test(
    kills: int,
    out: Path,
    *,
    seed: int = 0,
    targets: tuple[Target, ...] = TARGETS,
    python: str = sys.executable,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """SIGKILL runs of every target at ``kills`` or more random points in all; resume each;
    compare every finished log with its target's uninterrupted run.

    Returns:
        JSON-able counts per agent and in total: kills, processes started, resumes, chains,
        how many evaluations were on disk at each kill and the kills by phase, and the chains
        whose log differs from the reference (``mismatches``, expected empty).
    """
    rng = random.Random(seed)
    per_target = -(-kills // len(targets))
    report: dict[str, Any] = {"kills_asked": kills, "seed": seed, "agents": {}, "mismatches": []}
    for target in targets:
        reference_dir = out / "reference" / target.agent
        started = time.perf_counter()
        subprocess.run(target.command(reference_dir, python), check=True, capture_output=True)
        ref_log = log_in(reference_dir)
        assert ref_log is not None
        reference = comparable(ref_log)
        walls = [e.wall_seconds for e in read_runlog(ref_log).evaluations]
        eval_seconds = statistics.median(walls) if walls else 0.1
        summary: dict[str, Any] = {
            "env": target.env,
            "budget": target.budget,
            "reference_seconds": round(time.perf_counter() - started, 1),
            "kills": 0,
            "processes": 0,
            "chains": 0,
            "kill_points": [],
            "phases": dict.fromkeys(PHASES, 0),
            "equal": 0,
        }
        while summary["kills"] < per_target:
            chain_dir = out / "crash" / target.agent / f"chain{summary['chains']}"
            # A log only grows along a chain, so later kills of a chain find at least as
            # many evaluations on disk: short chains (KILLS_PER_CHAIN) spread the kill points.
            max_kills = min(per_target - summary["kills"], KILLS_PER_CHAIN)
            chain = run_chain(target, chain_dir, rng, eval_seconds, max_kills, python)
            final_log = log_in(chain_dir)
            assert final_log is not None
            final = comparable(final_log)
            diff = differences(reference, final)
            if diff:
                report["mismatches"].append({"agent": target.agent, "chain": str(chain_dir),
                                             "differences": diff[:20]})  # fmt: skip
            summary["kills"] += chain.kills
            summary["processes"] += chain.processes
            summary["chains"] += 1
            summary["kill_points"] += chain.kill_points
            for phase, count in chain.phases.items():
                summary["phases"][phase] += count
            summary["equal"] += not diff
            if progress is not None:
                progress(f"{target.agent}: chain {summary['chains']}, {chain.kills} kills, "
                         f"{'equal' if not diff else 'DIFFERENT'}")  # fmt: skip
        report["agents"][target.agent] = summary
    agents = report["agents"].values()
    report["kills"] = sum(a["kills"] for a in agents)
    report["processes"] = sum(a["processes"] for a in agents)
    report["resumes"] = report["processes"] - sum(a["chains"] for a in agents)
    report["chains"] = sum(a["chains"] for a in agents)
    report["phases"] = {p: sum(a["phases"][p] for a in agents) for p in PHASES}
    report["all_equal"] = not report["mismatches"]
    return report
