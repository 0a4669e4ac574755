"""``darwin-bench perf``: host latency, calibration, and the host predictor's accuracy report.

Subcommands:

- ``perf latency``: time a network at batch 1 and 64, several times, and report the noise.
- ``perf calibrate``: run the host microbenchmarks, fit the predictor, write the host profile.
- ``perf latency-predictor``: calibrate, then report the predictor's accuracy on fresh random
  networks (``{"n", "within_10pct", "spearman", "flops_spearman", ...}``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

#: The packaged host profile ``perf calibrate`` writes by default.
HOST_PROFILE = Path(__file__).resolve().parent.parent / "costs" / "profiles" / "host-cpu.json"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("perf", help="host latency, calibration, predictor accuracy")
    sub = parser.add_subparsers(dest="perf_command", metavar="PERF_COMMAND", required=True)

    lat = sub.add_parser("latency", help="measure a network's host latency at batch 1 and 64")
    lat.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="env whose task to use")
    lat.add_argument("--genome", default=None, help="genome (default: the 64-256-256-10 MLP)")
    lat.add_argument("--runs", type=int, default=5, help="independent measurements per batch")
    lat.add_argument("--json", action="store_true", help="print JSON")
    lat.set_defaults(handler=main_latency)

    mod = sub.add_parser("model", help="exact and modeled costs of a network on every device")
    mod.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="env whose task to use")
    mod.add_argument("--genome", default=None, help="genome (default: the 64-256-256-10 MLP)")
    mod.add_argument(
        "--prune",
        default=None,
        help="zero weights first: 'unstructured:0.9' (90%% of each weight, at random) or "
        "'clusters:0.75' (75%% of the neurons/filters of every layer but the output)",
    )
    mod.add_argument("--json", action="store_true", help="print JSON")
    mod.set_defaults(handler=main_model)

    for name, helptext in (
        ("calibrate", "microbenchmark this host and fit the predictor; write the host profile"),
        ("latency-predictor", "calibrate, then report predictor accuracy on random networks"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument(
            "--envs", default=None, help="comma-separated env ids (default: every registered env)"
        )
        cmd.add_argument("--calibration", type=int, default=100, help="calibration networks")
        cmd.add_argument("--seed", type=int, default=0, help="sampling seed")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        if name == "calibrate":
            cmd.add_argument(
                "--out",
                required=True,
                help=f"profile file to write (the packaged host profile is {HOST_PROFILE}; "
                "overwriting it changes every host-cpu modeled cost and cache key)",
            )
            cmd.set_defaults(handler=main_calibrate)
        else:
            cmd.add_argument("--n", type=int, default=200, help="test networks (default 200)")
            cmd.set_defaults(handler=main_predictor)


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Set ``DARWIN_BENCH_OFFLINE=1`` for the block (no dataset downloads)."""
    previous = os.environ.get("DARWIN_BENCH_OFFLINE")
    os.environ["DARWIN_BENCH_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["DARWIN_BENCH_OFFLINE"]
        else:
            os.environ["DARWIN_BENCH_OFFLINE"] = previous


def space_pairs(env_ids: str | None) -> tuple[list[tuple[str, Any, Any]], dict[str, str]]:
    """Distinct (task, space) pairs of the given (or every registered) env, and skipped envs.

    Without ``env_ids``, envs whose task cannot be built here (e.g. a dataset that is not
    downloaded and no network) are skipped with the reason; named envs must all build.

    Raises:
        ValueError: for an unknown env id, or a named env that cannot be built.
    """
    from darwin_bench.spaces import make_space
    from envs.registration import ENVS, get_entry
    from envs.tasks import make_task

    entries = [get_entry(e.strip()) for e in env_ids.split(",")] if env_ids else list(ENVS)
    pairs: dict[str, tuple[str, Any, Any]] = {}
    skipped: dict[str, str] = {}
    for entry in entries:
        kwargs = entry.kwargs
        if not isinstance(kwargs.get("task"), str) or "space" not in kwargs:
            continue
        try:
            if env_ids:
                task = make_task(kwargs["task"], kwargs.get("task_kwargs"))
            else:  # the default sweep never downloads: envs without cached data are skipped
                with _offline():
                    task = make_task(kwargs["task"], kwargs.get("task_kwargs"))
            space = make_space(
                kwargs["space"],
                task.input_shape,
                task.num_outputs,
                **kwargs.get("space_kwargs", {}),
            )
        except Exception as exc:
            if env_ids:
                raise ValueError(f"env {entry.id}: {str(exc).splitlines()[0]}") from None
            skipped[entry.id] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            continue
        key = f"{kwargs['task']}/{kwargs['space']}|{json.dumps(space.describe(), sort_keys=True)}"
        pairs.setdefault(key, (f"{kwargs['task']}/{kwargs['space']}", task, space))
    if not pairs:
        raise ValueError("envs: none of the given envs has a task and a space to sample from")
    return list(pairs.values()), skipped


def _progress(enabled: bool) -> tuple[Any, Any]:
    if not enabled:
        return None, None
    progress = Progress(
        TextColumn("timing networks"), BarColumn(), MofNCompleteColumn(), transient=True
    )
    task_id = progress.add_task("timing", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task_id, completed=done, total=total)

    return progress, update


def main_calibrate(args: argparse.Namespace) -> int:
    from darwin_bench.costs.calibration import calibrate
    from darwin_bench.costs.predictor import HostPredictor, accuracy_report
    from darwin_bench.validation import check_positive_int

    n_cal = check_positive_int("--calibration", args.calibration)
    pairs, skipped = space_pairs(args.envs)
    progress, update = _progress(not args.no_progress and not args.json)
    if progress:
        with progress:
            profile, samples = calibrate(pairs, n_cal, args.seed, update)
    else:
        profile, samples = calibrate(pairs, n_cal, args.seed)
    predictor = HostPredictor.from_dict(profile.calibration or {})
    fit = accuracy_report(
        [predictor.predict_ms(s.workload) for s in samples],
        [s.latency_ms for s in samples],
        [s.workload.flops for s in samples],
    )
    out = Path(args.out)
    out.write_text(json.dumps(profile.model_dump(mode="json"), indent=2) + "\n")
    result = {
        "profile": str(out),
        "in_sample": fit,
        "skipped_envs": skipped,
        **profile.model_dump(exclude={"sources"}),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        Console().print(
            f"wrote {out}: peak {profile.peak_gflops:g} GFLOP/s, "
            f"{profile.memory_bandwidth_gbs:g} GB/s, {profile.layer_overhead_us:g} us/layer; "
            f"in-sample within 10%: {fit['within_10pct']:.0%} of {fit['n']}"
        )
    return 0


def main_predictor(args: argparse.Namespace) -> int:
    from darwin_bench.costs.calibration import predictor_report
    from darwin_bench.validation import check_positive_int

    n = check_positive_int("--n", args.n)
    n_cal = check_positive_int("--calibration", args.calibration)
    if n < 2 or n_cal < 2:
        raise ValueError("--n and --calibration must be >= 2")
    pairs, skipped = space_pairs(args.envs)
    progress, update = _progress(not args.no_progress and not args.json)
    if progress:
        with progress:
            report = predictor_report(pairs, n, n_cal, args.seed, update)
    else:
        report = predictor_report(pairs, n, n_cal, args.seed)
    report["skipped_envs"] = skipped
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    console = Console()
    console.print(
        f"host predictor on {report['n']} random networks ({', '.join(report['sources'])}), "
        f"calibrated on {report['n_calibration']} others:"
    )
    for key in (
        "within_10pct",
        "within_20pct",
        "median_abs_rel_error",
        "spearman",
        "flops_spearman",
        "roofline_within_10pct",
        "repeat_within_10pct",
        "median_rel_iqr",
    ):
        value = report[key]
        console.print(f"  {key:24s} " + ("n/a" if value is None else f"{value:.3f}"))
    for env_id, reason in skipped.items():
        console.print(f"  skipped {env_id}: {reason}")
    console.print("(anchor: nn-Meter reports 99% within +-10% on a mobile CPU)")
    return 0


def _network(env: str, genome: str | None) -> tuple[Any, Any]:
    """The (task, architecture) of ``--env`` and ``--genome`` (default: a 64-256-256-10 MLP)."""
    from darwin_bench.cli.common import parse_genome
    from envs.core import SearchCore
    from envs.registration import get_entry

    kwargs = get_entry(env).kwargs
    core = SearchCore(
        **{k: kwargs[k] for k in ("task", "space", "task_kwargs", "space_kwargs") if k in kwargs},
        measure_latency=False,
    )
    if genome is not None:
        architecture = core.space.decode(parse_genome(genome))
    else:
        from darwin_bench.architecture import Architecture

        layers: list[dict[str, Any]] = (
            [{"type": "flatten"}] if len(core.task.input_shape) > 1 else []
        )
        layers += [{"type": "dense", "units": u, "activation": "relu"} for u in (256, 256)]
        layers.append({"type": "dense", "units": core.task.num_outputs, "activation": None})
        architecture = Architecture(
            "mlp", core.task.input_shape, core.task.num_outputs, tuple(layers)
        )
    return core.task, architecture


def _prune(model: Any, spec: str) -> None:
    """Zero weights of ``model`` in place as ``--prune`` says (seed 0)."""
    import torch

    from darwin_bench.costs import synapse_tensors

    kind, _, amount_text = spec.partition(":")
    try:
        amount = float(amount_text)
    except ValueError:
        amount = -1.0
    if kind not in ("unstructured", "clusters") or not 0.0 <= amount < 1.0:
        raise ValueError(
            f"--prune must be 'unstructured:<share>' or 'clusters:<share>' with a share in "
            f"[0, 1); got {spec!r}"
        )
    gen = torch.Generator().manual_seed(0)
    tensors = [t for _, t in synapse_tensors(model)]
    with torch.no_grad():
        for i, weight in enumerate(tensors):
            if kind == "unstructured":
                weight.mul_((torch.rand(weight.shape, generator=gen) >= amount).to(weight.dtype))
            elif i < len(tensors) - 1:
                weight[round(weight.shape[0] * (1 - amount)) :] = 0.0


def main_model(args: argparse.Namespace) -> int:

    from darwin_bench.costs import DEVICES, CostConfig, cost_kind, measure_costs
    from darwin_bench.seeding import derive_seed, torch_determinism

    task, architecture = _network(args.env, args.genome)
    with torch_determinism(derive_seed(0, architecture.hash)):
        model = task.build(architecture)
    if args.prune:
        _prune(model, args.prune)
    costs = measure_costs(model, task.example_input(1), CostConfig(latency=False))
    exact = {k: v for k, v in costs.items() if cost_kind(k) == "exact"}
    devices = {
        d: {"latency_ms": costs[f"latency_ms@{d}"], "energy_mj": costs[f"energy_mj@{d}"]}
        for d in DEVICES
    }
    result = {
        "env": args.env,
        "prune": args.prune,
        "architecture": architecture.to_dict(),
        "exact": exact,
        "modeled": True,
        "devices": devices,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    console = Console()
    console.print(", ".join(f"{k} {v:g}" for k, v in exact.items()))
    table = Table(title="modeled costs (batch 1)")
    for col in ("device", "latency_ms (modeled)", "energy_mj (modeled)"):
        table.add_column(col, justify="right" if col != "device" else "left")
    for name, row in devices.items():
        table.add_row(name, f"{row['latency_ms']:.4g}", f"{row['energy_mj']:.4g}")
    console.print(table)
    return 0


def main_latency(args: argparse.Namespace) -> int:
    import torch

    from darwin_bench.costs import LatencyConfig, measure_latency_ms
    from darwin_bench.validation import check_positive_int

    runs = check_positive_int("--runs", args.runs)
    task, architecture = _network(args.env, args.genome)
    model = task.build(architecture)
    config = LatencyConfig()
    result: dict[str, Any] = {"env": args.env, "architecture": architecture.to_dict()}
    result["timing"] = config.to_dict()
    for batch in (1, 64):
        example = task.example_input(batch)
        medians, iqrs = [], []
        for _ in range(runs):
            timed = measure_latency_ms(model, example, config)
            medians.append(timed["median"])
            iqrs.append(timed["q3"] - timed["q1"])
        result[f"batch_{batch}"] = {
            "median_ms": statistics.median(medians),
            "runs_ms": medians,
            "run_spread": (max(medians) - min(medians)) / statistics.median(medians),
            "median_rel_iqr": statistics.median(i / m for i, m in zip(iqrs, medians)),
        }
    result["torch_threads_during_timing"] = config.threads
    result["torch_version"] = torch.__version__
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    console = Console()
    for batch in (1, 64):
        r = result[f"batch_{batch}"]
        console.print(
            f"batch {batch:2d}: median {r['median_ms']:.4f} ms over {runs} runs; "
            f"run-to-run spread {r['run_spread']:.1%}, median IQR/median {r['median_rel_iqr']:.1%}"
        )
    return 0
