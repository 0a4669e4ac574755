"""Every built-in agent on the tabular tracks, over many seeds, in evaluations and in FLOPs.

The comparison of issue 9 (docs/compare.md, "Every built-in agent on the tabular tracks"): for
each env and budget kind, one ``darwin-bench compare`` of every built-in agent that runs on a
proposal env, its wall time with the machine's load beside it, and its plots copied into
``docs/img`` as ``compare-tab-<track>-<kind>-<plot>.png``. Prints one JSON summary (also written
to ``OUT/summary.json``); each comparison's full numbers are in ``OUT/<track>-<kind>/``.

The ``train_flops`` budget is the FLOPs counterpart of ``--budget`` evaluations: ``--budget``
times the median price (the env's ``price()`` helper: the exact training FLOPs at the env's
fidelity) of 200 random networks of the space, drawn with seed 0.

    nice -n 15 python scripts/compare_tabular.py --out runs/compare-tab
    python scripts/compare_tabular.py --out runs/compare-tab --markdown  # tables for the docs

Resumable: complete run logs in ``OUT`` are reused (``compare``'s rule), so a killed script
picks up where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import darwin_bench  # noqa: F401  (registers the envs)
from baselines import AGENTS
from darwin_bench.cli import main as darwin_bench_main
from envs.helpers import helpers

ENVS = ("darwin_bench/Digits-MLP-Tab-v0", "darwin_bench/Digits-CNN-Tab-v0")
KINDS = ("evaluations", "train_flops")
PLOTS = ("best_so_far", "accuracy_vs_cost", "performance_profiles")


def proposal_agents() -> list[str]:
    """Every built-in agent that runs on a proposal env, in registry order."""
    return [name for name, cls in AGENTS.items() if "proposal" in cls.forms]


def flops_budget(env_id: str, evaluations: float, samples: int = 200) -> float:
    """``evaluations`` times the median training FLOPs of ``samples`` random networks."""
    env = gym.make(env_id, budget_kind="train_flops", budget=1e30)
    h = helpers(env, "proposal")
    rng = np.random.default_rng(0)
    prices = [h.price(h.search_space.sample(rng)) for _ in range(samples)]
    env.close()
    if any(p is None for p in prices):
        raise ValueError(f"{env_id} cannot price its networks in train_flops")
    return float(f"{evaluations * float(np.median([p for p in prices if p is not None])):.3g}")


def run_one(env_id: str, kind: str, args: argparse.Namespace, agents: list[str]) -> dict[str, Any]:
    """One ``compare`` (table printed to stderr), timed; returns its summary entry."""
    track = env_id.split("/")[-1].removesuffix("-v0").lower()
    out = Path(args.out) / f"{track}-{kind}"
    budget = args.budget if kind == "evaluations" else flops_budget(env_id, args.budget)
    argv = ["compare", "--agents", ",".join(agents), "--env", env_id, "--seeds", str(args.seeds)]
    argv += ["--budget", f"{budget:g}", "--budget-kind", kind, "--no-progress", "--out", str(out)]
    load_before = os.getloadavg()
    start = time.perf_counter()
    stdout = sys.stdout
    sys.stdout = sys.stderr  # the tables go to stderr; stdout is this script's JSON
    try:
        code = darwin_bench_main(argv)
    finally:
        sys.stdout = stdout
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"compare failed ({code}): darwin-bench {' '.join(argv)}")
    comparison = json.loads((out / "comparison.json").read_text())
    images = {}
    for plot in PLOTS:
        target = Path(args.img) / f"compare-tab-{track}-{kind.replace('_', '-')}-{plot}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / f"{plot}.png", target)
        images[plot] = str(target)
    return {
        "env_id": env_id,
        "budget_kind": kind,
        "budget": budget,
        "seeds": args.seeds,
        "command": "darwin-bench " + " ".join(argv),
        "wall_seconds": round(wall, 1),
        "run_seconds": _run_seconds(out, comparison),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "images": images,
        "agents": {a["agent"]: _numbers(a) for a in comparison["agents"]},
        "probability_of_improvement": {
            f"{p['x']} > {p['y']}": _short(p["final_best_reward"])
            for p in comparison["probability_of_improvement"]
        },
    }


def _run_seconds(out: Path, comparison: dict[str, Any]) -> dict[str, float]:
    """Per agent, the wall seconds of its runs (their logs' footers; process start excluded)."""
    seconds = {}
    for agent in comparison["agents"]:
        total = 0.0
        for log in out.glob(f"{agent['agent']}__*.jsonl"):
            footer = json.loads(log.read_text().rstrip("\n").rsplit("\n", 1)[-1])
            total += float(footer.get("seconds", 0.0))
        seconds[agent["agent"]] = round(total, 1)
    return seconds


def _short(stat: dict[str, Any]) -> list[float]:
    """[estimate, low, high] of an interval, 4 decimals."""
    return [round(stat[k], 4) for k in ("estimate", "low", "high")]


def _numbers(agent: dict[str, Any]) -> dict[str, Any]:
    """IQM and mean, each [estimate, low, high], of an agent's final reward, test metric, AUC."""
    return {
        key: {s: _short(agent[key][s]) for s in ("iqm", "mean")}
        for key in ("final_best_reward", "test_metric", "auc")
        if key in agent
    }


def markdown(summary: dict[str, Any]) -> str:
    """The docs' tables of a summary: per comparison, one row per agent, and the probability
    of improvement of each agent over random."""

    def ci(v: list[float]) -> str:
        return f"{v[0]:.4f} [{v[1]:.4f}, {v[2]:.4f}]"

    parts = []
    for run in summary["runs"]:
        parts.append(
            f"**{run['env_id'].split('/')[-1]}, budget {run['budget']:g} {run['budget_kind']}, "
            f"{run['seeds']} seeds**: {run['wall_seconds']:.0f} s wall (load "
            f"{run['load_before'][0]:.1f} before, {run['load_after'][0]:.1f} after)\n"
        )
        parts.append(
            "| agent | final best reward, IQM | mean | incumbent test acc., IQM | AUC, IQM "
            "| P(agent > random) | run seconds |\n| --- | --- | --- | --- | --- | --- | --- |"
        )
        for agent, n in run["agents"].items():
            poi = _over_random(run["probability_of_improvement"], agent)
            parts.append(
                f"| {agent} | {ci(n['final_best_reward']['iqm'])} "
                f"| {ci(n['final_best_reward']['mean'])} | {ci(n['test_metric']['iqm'])} "
                f"| {n['auc']['iqm'][0]:.4f} | {ci(poi) if poi else '-'} "
                f"| {run['run_seconds'].get(agent, 0):.1f} |"
            )
        parts.append("")
    return "\n".join(parts)


def _over_random(pairs: dict[str, list[float]], agent: str) -> list[float] | None:
    """P(agent > random) with its interval; pairs hold each pair once, in either order."""
    if f"{agent} > random" in pairs:
        return pairs[f"{agent} > random"]
    if f"random > {agent}" in pairs:
        estimate, low, high = pairs[f"random > {agent}"]
        return [round(1 - estimate, 4), round(1 - high, 4), round(1 - low, 4)]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default=",".join(ENVS), help="comma-separated env ids")
    parser.add_argument("--kinds", default=",".join(KINDS), help="budget kinds")
    parser.add_argument("--agents", default=None, help="default: every built-in proposal agent")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=float, default=200, help="in evaluations")
    parser.add_argument("--out", default="runs/compare-tab")
    parser.add_argument("--img", default="docs/img")
    parser.add_argument(
        "--markdown", action="store_true", help="print OUT/summary.json's tables; run nothing"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads((Path(args.out) / "summary.json").read_text())))
        return 0
    agents = args.agents.split(",") if args.agents else proposal_agents()
    start = time.perf_counter()
    summary: dict[str, Any] = {"agents": agents, "wall_seconds": 0.0, "runs": []}
    for env_id in args.envs.split(","):
        for kind in args.kinds.split(","):
            summary["runs"].append(run_one(env_id, kind, args, agents))
            summary["wall_seconds"] = round(time.perf_counter() - start, 1)
            Path(args.out).mkdir(parents=True, exist_ok=True)  # after each: partial results
            (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
