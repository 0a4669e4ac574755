"""``darwin-bench perf``: benchmark commands that measure and print JSON.

Each subcommand is one row of :data:`SUBCOMMANDS`: its arguments, a ``run`` function that calls
the library (``darwin_bench/perf/``) and returns a JSON-serializable dict, and a ``show``
function that prints that dict for people. ``--json`` (added to every subcommand) prints the
dict instead. To add a subcommand, write its library module and append a row.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

#: The packaged host profile (``perf calibrate --out`` may replace it).
HOST_PROFILE = Path(__file__).resolve().parent.parent / "costs" / "profiles" / "host-cpu.json"

Report = dict[str, Any]


@dataclass(frozen=True)
class Subcommand:
    """One ``perf`` subcommand.

    Attributes:
        name: the subcommand's name.
        help: one line for ``--help``.
        arguments: declares its arguments (``--json`` is added for every subcommand).
        run: parses the arguments into a library call; returns the report.
        show: prints the report for people.
    """

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Report]
    show: Callable[[Report], None]


# ------------------------------------------------------------------ shared argument helpers
def _network_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="env whose task to use")
    parser.add_argument("--genome", default=None, help="genome (default: a 256-256 ReLU MLP)")


def _network(args: argparse.Namespace) -> tuple[Any, Any]:
    """The (task, architecture) of ``--env`` and ``--genome``."""
    from darwin_bench.cli.common import option, parse_genome, resolve_env_option
    from darwin_bench.perf.networks import reference_mlp
    from envs.problems import problem

    args.env = resolve_env_option(args.env)  # loads a plug-in named as PLUGIN:ID first
    with option("--env"):
        _, task, space = problem(args.env)
    if args.genome is None:
        return task, reference_mlp(task)
    return task, space.decode(parse_genome(args.genome))


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--envs", default=None, help="comma-separated env ids (default: every registered env)"
    )
    parser.add_argument(
        "--calibration", type=int, default=300, help="calibration networks (default 300)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


@contextlib.contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr unless ``--json`` or ``--no-progress``."""
    if args.json or args.no_progress:
        yield None
        return
    bar = Progress(
        TextColumn("timing networks"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    task_id = bar.add_task("timing", total=None)
    with bar:
        yield lambda done, total: bar.update(task_id, completed=done, total=total)


# ------------------------------------------------------------------------------- latency
def _latency_arguments(parser: argparse.ArgumentParser) -> None:
    _network_arguments(parser)
    parser.add_argument("--runs", type=int, default=5, help="independent measurements per batch")
    parser.add_argument(
        "--batches", default="1,64", help="comma-separated batch sizes (default 1,64)"
    )
    _timing_arguments(parser)


def _timing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 30)")
    parser.add_argument(
        "--quantile",
        type=float,
        default=None,
        help="reported quantile of the samples (0.0: the fastest)",
    )
    parser.add_argument(
        "--block-ms", type=float, default=None, help="wall time of one timed block (0.5)"
    )


def _timing(args: argparse.Namespace, **base: Any) -> Any:
    """The protocol's settings with the ``--repeats``/``--quantile``/``--block-ms`` overrides."""
    from darwin_bench.costs import LatencyConfig

    given = {"repeats": args.repeats, "quantile": args.quantile, "block_ms": args.block_ms}
    return LatencyConfig(**{**base, **{k: v for k, v in given.items() if v is not None}})


def _batches(text: str, option: str = "--batches") -> list[int]:
    try:
        batches = [int(b) for b in text.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        raise ValueError(f"{option} must be positive integers separated by commas; got {text!r}")
    return batches


def _latency_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.latency import latency_report

    task, architecture = _network(args)
    report = latency_report(task, architecture, args.runs, _timing(args), _batches(args.batches))
    return {"env": args.env, "genome": args.genome, **report}


def _latency_show(report: Report) -> None:
    console = Console()
    table = Table(title=f"host latency of one network ({report['env']}), ms per forward pass")
    for col in ("batch", "engine", "median of runs", "spread", "repeat within 10%", "IQR/median"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    batches = sorted(int(k.split("_")[1]) for k in report if k.startswith("batch_"))
    for batch in batches:
        entry = report[f"batch_{batch}"]
        for engine in ("onnxruntime", "torch-eager"):
            r = entry[engine]
            agree = r["repeat_within_10pct"]
            table.add_row(
                str(batch),
                engine,
                f"{r['median_ms']:.4f}",
                f"{r['run_spread']:.1%}",
                "n/a" if agree is None else f"{agree:.0%}",
                f"{r['median_rel_iqr']:.1%}",
            )
    console.print(table)
    for batch in batches:
        entry = report[f"batch_{batch}"]
        ratio, setup = entry["eager_over_onnxruntime"]["median"], entry["setup_ms"]
        console.print(
            f"batch {batch}: eager / ONNX Runtime {ratio:.2f}x; "
            f"export {setup['export']:.0f} ms, session {setup['session']:.1f} ms"
        )
    _show_conditions(console, report)


def _show_conditions(console: Console, report: Report) -> None:
    before = report.get("conditions_before", {})
    after = report.get("conditions_after", {})
    console.print(
        f"load average before {before.get('load_average')}, after {after.get('load_average')} "
        f"on {before.get('cpus')} CPUs (timings on a loaded machine are pessimistic)"
    )


# --------------------------------------------------------------------------------- model
def _model_arguments(parser: argparse.ArgumentParser) -> None:
    _network_arguments(parser)
    parser.add_argument(
        "--prune",
        default=None,
        help="zero weights first: 'unstructured:0.9' (90%% of each weight, at random) or "
        "'clusters:0.75' (75%% of the neurons/filters of every layer but the output)",
    )


def _model_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.model import model_report

    task, architecture = _network(args)
    return {"env": args.env, **model_report(task, architecture, args.prune)}


def _model_show(report: Report) -> None:
    console = Console()
    console.print(", ".join(f"{k} {v:g}" for k, v in report["exact"].items()))
    table = Table(title="modeled costs (batch 1)")
    for col in ("device", "latency_ms (modeled)", "energy_mj (modeled)"):
        table.add_column(col, justify="right" if col != "device" else "left")
    for name, row in report["devices"].items():
        table.add_row(name, f"{row['latency_ms']:.4g}", f"{row['energy_mj']:.4g}")
    console.print(table)


# ----------------------------------------------------------------------------- calibrate
def _calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    _sweep_arguments(parser)
    _timing_arguments(parser)
    parser.add_argument(
        "--out",
        required=True,
        help=f"profile file to write (the packaged host profile is {HOST_PROFILE}; "
        "overwriting it changes every host-cpu modeled cost and cache key)",
    )


def _calibrate_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.latency_predictor import SWEEP_TIMING, calibration_report
    from darwin_bench.validation import check_positive_int
    from envs.problems import problems

    n_cal = check_positive_int("--calibration", args.calibration)
    if n_cal < 2:
        raise ValueError("--calibration must be >= 2")
    timing = _timing(args, **SWEEP_TIMING.to_dict())
    found, skipped = problems(args.envs)
    with _progress(args) as update:
        report = calibration_report(found, args.out, n_cal, args.seed, update, timing)
    return {**report, "skipped_envs": skipped}


def _calibrate_show(report: Report) -> None:
    fit = report["in_sample"]
    Console().print(
        f"wrote {report['profile']}: peak {report['peak_gflops']:g} GFLOP/s, "
        f"{report['memory_bandwidth_gbs']:g} GB/s, {report['layer_overhead_us']:g} us/layer; "
        f"in-sample within 10%: {fit['within_10pct']:.0%} of {fit['n']}"
    )


# --------------------------------------------------------------------- latency-predictor
def _predictor_arguments(parser: argparse.ArgumentParser) -> None:
    _sweep_arguments(parser)
    parser.add_argument("--n", type=int, default=200, help="test networks (default 200)")
    parser.add_argument(
        "--out", default=None, help="also write the calibrated host profile to this JSON file"
    )
    _timing_arguments(parser)


def _predictor_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.latency_predictor import SWEEP_TIMING, predictor_report
    from darwin_bench.validation import check_positive_int
    from envs.problems import problems

    n = check_positive_int("--n", args.n)
    n_cal = check_positive_int("--calibration", args.calibration)
    if n < 2 or n_cal < 2:
        raise ValueError("--n and --calibration must be >= 2")
    timing = _timing(args, **SWEEP_TIMING.to_dict())
    found, skipped = problems(args.envs)
    with _progress(args) as update:
        report = predictor_report(found, n, n_cal, args.seed, update, timing, args.out)
    return {**report, "skipped_envs": skipped}


#: The rows of the side-by-side table: (key, label).
PREDICTOR_ROWS = (
    ("within_10pct", "predicted within ±10%"),
    ("within_20pct", "predicted within ±20%"),
    ("median_abs_rel_error", "median |error|"),
    ("spearman", "Spearman predicted vs measured"),
    ("flops_spearman", "Spearman FLOPs vs measured"),
    ("calibration_fit", "in-sample within ±10%"),
    ("repeat_within_10pct", "repeat sweep within ±10%"),
    ("repeat_spearman", "Spearman sweep 1 vs sweep 2"),
    ("median_rel_iqr", "median IQR / latency"),
)


def _predictor_show(report: Report) -> None:
    console = Console()
    console.print(
        f"host predictor on {report['n']} random networks ({', '.join(report['sources'])}), "
        f"calibrated on {report['n_calibration']} others; every network timed in both engines, "
        "interleaved, in two sweeps:"
    )
    table = Table()
    table.add_column("")
    for engine in report["engines"]:
        table.add_column(
            engine + (" (latency_ms)" if engine == "onnxruntime" else ""), justify="right"
        )
    for key, label in PREDICTOR_ROWS:
        values = [report["engines"][e][key] for e in report["engines"]]
        table.add_row(label, *("n/a" if v is None else f"{v:.3f}" for v in values))
    console.print(table)
    ratio = report["eager_over_onnxruntime"]
    setup = report["setup_ms"]
    spearman = report["engines_spearman"]
    console.print(
        f"eager / ONNX Runtime latency: median {ratio['median']:.2f}x "
        f"(min {ratio['min']:.2f}x, max {ratio['max']:.2f}x); Spearman between the engines' "
        + ("n/a" if spearman is None else f"{spearman:.3f}")
    )
    console.print(
        f"ONNX export per network: median {setup['export']['median']:.0f} ms "
        f"(p90 {setup['export']['p90']:.0f}); session {setup['session']['median']:.1f} ms"
    )
    for key, reason in {**report["failed"], **report["skipped_envs"]}.items():
        console.print(f"  left out {key}: {reason}")
    _show_conditions(console, report)
    console.print("(anchor: nn-Meter reports 99% within +-10% on a mobile CPU)")


# ---------------------------------------------------------------------------- population
def _population_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="env whose task to use")
    parser.add_argument("--n", type=int, default=64, help="networks (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="sampling and training seed")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: the env's)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads of both sides (default: 1)"
    )


def _population_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.population import population_benchmark
    from envs.problems import problem

    _, task, space = problem(args.env)
    report = population_benchmark(
        task, space, n=args.n, seed=args.seed, epochs=args.epochs, threads=args.threads
    )
    return {"env": args.env, **report}


def _population_show(r: Report) -> None:
    console = Console()
    console.print(f"{r['networks']} networks of {r['env']} at {r['fidelity']}:")
    for side in ("per_model", "batched"):
        s = r[side]
        console.print(
            f"  {side:9s}: {s['wall_seconds']:.1f} s, "
            f"mean val accuracy {s['mean_val_accuracy']:.4f}"
        )
    console.print(
        f"  speed-up {r['speedup']:.1f}x (CPU time {r['cpu_speedup']:.1f}x), accuracy gap "
        f"{r['val_accuracy_gap_points']:+.2f} points; load {r['conditions_before']['load_average']}"
    )
    b = r["bounds"]
    console.print(
        f"  CPU speed-up bounds: per-model products alone {b['per_model_gemms']:.1f}x, "
        f"batched products alone {b['batched_gemms']:.1f}x, "
        f"arithmetic at peak {b['arithmetic_at_peak']:.1f}x"
    )


# ---------------------------------------------------------------------- latency-targets
def _targets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--envs", default=None, help="comma-separated env ids (default: every registered env)"
    )
    parser.add_argument("--samples", type=int, default=16, help="networks per task and space")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _timing_arguments(parser)


def _targets_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.latency_predictor import SWEEP_TIMING
    from darwin_bench.perf.latency_targets import latency_targets
    from darwin_bench.validation import check_positive_int
    from envs.problems import problems

    samples = check_positive_int("--samples", args.samples)
    found, skipped = problems(args.envs)
    with _progress(args) as update:
        report = latency_targets(
            found, samples, args.seed, _timing(args, **SWEEP_TIMING.to_dict()), update
        )
    return {**report, "skipped_envs": skipped}


def _targets_show(report: Report) -> None:
    console = Console()
    table = Table(
        title="default latency_ms targets: median ONNX Runtime latency of random networks"
    )
    for col in ("task", "networks", "median ms", "target", "current default"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for name, t in report["tasks"].items():
        table.add_row(
            name, str(t["n"]), f"{t['median_ms']:.4f}", f"{t['target']:g}", f"{t['current']}"
        )
    console.print(table)
    for key, reason in {**report["failed"], **report["skipped_envs"]}.items():
        console.print(f"  left out {key}: {reason}")
    _show_conditions(console, report)


# ------------------------------------------------------------------------------- tabular
def _tabular_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="darwin_bench/Digits-MLP-Tab-v0", help="tabular env")
    parser.add_argument("--steps", type=int, default=50_000, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--env-kwargs", default=None, help="extra env kwargs as a JSON object")


def _tabular_run(args: argparse.Namespace) -> Report:
    from darwin_bench.cli.common import json_dict
    from darwin_bench.perf.tabular import tabular_steps
    from darwin_bench.validation import check_positive_int

    return tabular_steps(
        args.env,
        steps=check_positive_int("steps", args.steps),
        repeats=check_positive_int("repeats", args.repeats),
        env_kwargs=json_dict("--env-kwargs", args.env_kwargs),
    )


def _tabular_show(r: Report) -> None:
    Console().print(
        f"{r['env_id']}: {r['steps_per_second']:,.0f} steps/s wall, "
        f"{r['steps_per_cpu_second']:,.0f} per CPU second (median of {r['repeats']} x "
        f"{r['steps']:,} steps through gym.make: {', '.join(r['wrappers'])}); table "
        f"{r['table_bytes']:,} bytes, loaded in {r['table_load_seconds']['cold']:.3f} s; "
        f"load average {r['load_average']}"
    )


# ------------------------------------------------------------------------------- control
def _control_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="darwin_bench/CartPole-MLP-v0", help="control env")
    parser.add_argument("--genome", default=None, help="policy genome (default: 64-64 tanh MLP)")
    parser.add_argument(
        "--sb3-timesteps",
        type=int,
        default=None,
        help="SB3 side's timesteps (default: the task side's)",
    )
    parser.add_argument(
        "--timesteps", type=int, default=None, help="task side's timesteps (default: its own)"
    )
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument(
        "--budgets",
        default=None,
        help="comma-separated step budgets: compare each side at the smallest budget where its "
        "mean held-out return reaches 475 (instead of at equal steps)",
    )


def _control_run(args: argparse.Namespace) -> Report:
    from darwin_bench.perf.control import control_benchmark
    from darwin_bench.tasks.control import ControlTask
    from envs.problems import problem

    _, task, space = problem(args.env)
    if not isinstance(task, ControlTask):
        raise ValueError(f"--env must be a control env (a Gymnasium-task env); got {args.env!r}")
    architecture = None
    if args.genome is not None:
        from darwin_bench.cli.common import parse_genome

        architecture = space.decode(parse_genome(args.genome))
    try:
        seeds = tuple(int(s) for s in str(args.seeds).split(","))
    except ValueError:
        seeds = ()
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds must be integers >= 0 separated by commas; got {args.seeds!r}")
    if args.budgets is not None:
        from darwin_bench.perf.control import equal_return_benchmark

        budgets = tuple(_batches(str(args.budgets), "--budgets"))
        report = equal_return_benchmark(task, architecture, budgets=budgets, seeds=seeds)
        return {"env": args.env, "mode": "equal_return", **report}
    report = control_benchmark(
        task, architecture, sb3_timesteps=args.sb3_timesteps, timesteps=args.timesteps, seeds=seeds
    )
    return {"env": args.env, "mode": "equal_steps", **report}


def _control_show(r: Report) -> None:
    console = Console()
    console.print(f"{r['env']}, seeds {r['seeds']}, {r['test_episodes']} held-out test episodes:")
    if r["mode"] == "equal_return":
        _control_equal_return_show(console, r)
        return
    for side in ("sb3_default", "task"):
        s = r[side]
        console.print(
            f"  {s['trainer']:40s} {s['timesteps']:>7d} steps: {s['wall_seconds']:7.1f} s, "
            f"mean test return {s['mean_test_return']:.1f}"
        )
    console.print(
        f"  speed-up {r['speedup']:.1f}x (CPU time {r['cpu_speedup']:.1f}x); "
        f"load {r['conditions_before']['load_average']}"
    )


def _control_equal_return_show(console: Console, r: Report) -> None:
    for side, label in (("sb3_default", "stable-baselines3 PPO defaults"), ("task", "task")):
        for row in r[side]["tried"]:
            console.print(
                f"  {label:32s} {row['timesteps']:>7d} steps: {row['wall_seconds']:7.1f} s, "
                f"mean test return {row['mean_test_return']:.1f}"
            )
    if r["speedup"] is None:
        console.print(f"  a side never reached {r['min_return']} on the budgets {r['budgets']}")
        return
    console.print(
        f"  at the smallest budgets reaching {r['min_return']}: speed-up {r['speedup']:.1f}x "
        f"(CPU time {r['cpu_speedup']:.1f}x); load {r['conditions_before']['load_average']}"
    )


# ------------------------------------------------------------------------------ overhead
def _overhead_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="proposal env id")
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="reset and sampling seed")
    parser.add_argument("--env-kwargs", default=None, help="env kwargs as a JSON object")


def _overhead_run(args: argparse.Namespace) -> Report:
    import gymnasium as gym

    from darwin_bench.cli.common import json_dict
    from darwin_bench.perf.overhead import overhead_benchmark
    from envs.framework import search_core
    from envs.registration import get_entry

    get_entry(args.env)  # a ValueError naming the known ids
    kwargs = json_dict("--env-kwargs", args.env_kwargs)
    report = overhead_benchmark(
        lambda: gym.make(args.env, **kwargs), search_core, steps=args.steps, seed=args.seed
    )
    return {"env": args.env, "env_kwargs": kwargs, **report}


def _overhead_show(r: Report) -> None:
    Console().print(
        f"{r['env']}: {r['steps']} steps of {r['mean_step_seconds'] * 1e3:.1f} ms; overhead "
        f"{r['mean_overhead_seconds'] * 1e3:.2f} ms = {r['overhead_fraction']:.2%} of a step "
        f"(run log {r['runlog_fraction']:.2%}); load {r['conditions']['load_average']}"
    )


#: The ``perf`` subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Subcommand] = [
    Subcommand(
        "latency",
        "measure one network's host latency in both engines, several times",
        _latency_arguments,
        _latency_run,
        _latency_show,
    ),
    Subcommand(
        "model",
        "exact and modeled costs of a network on every device",
        _model_arguments,
        _model_run,
        _model_show,
    ),
    Subcommand(
        "calibrate",
        "microbenchmark this host and fit the predictor; write the host profile",
        _calibrate_arguments,
        _calibrate_run,
        _calibrate_show,
    ),
    Subcommand(
        "latency-predictor",
        "calibrate, then report both engines' predictor accuracy and repeatability",
        _predictor_arguments,
        _predictor_run,
        _predictor_show,
    ),
    Subcommand(
        "latency-targets",
        "the tasks' default latency_ms targets: median latency of random networks",
        _targets_arguments,
        _targets_run,
        _targets_show,
    ),
    Subcommand(
        "population",
        "train a population per model and batched; compare time and accuracy",
        _population_arguments,
        _population_run,
        _population_show,
    ),
    Subcommand(
        "tabular",
        "env steps per second of a tabular env through gym.make, and its table's load time",
        _tabular_arguments,
        _tabular_run,
        _tabular_show,
    ),
    Subcommand(
        "control",
        "a control task's evaluation vs stable-baselines3 PPO at its defaults, same policy",
        _control_arguments,
        _control_run,
        _control_show,
    ),
    Subcommand(
        "overhead",
        "what an env step and its run log line cost beyond training and costing the network",
        _overhead_arguments,
        _overhead_run,
        _overhead_show,
    ),
]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("perf", help="benchmarks: latency, costs, calibration, ...")
    sub = parser.add_subparsers(dest="perf_command", metavar="PERF_COMMAND", required=True)
    for command in SUBCOMMANDS:
        cmd = sub.add_parser(command.name, help=command.help)
        command.arguments(cmd)
        cmd.add_argument("--json", action="store_true", help="print the report as JSON")
        cmd.set_defaults(handler=_handler(command))


def _handler(command: Subcommand) -> Callable[[argparse.Namespace], int]:
    def handle(args: argparse.Namespace) -> int:
        report = command.run(args)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            command.show(report)
        return 0

    return handle
