"""``darwin-bench list``: env ids, spaces, rewards and costs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from darwin_bench.cli.common import option, print_table


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("list", help="list envs, spaces, rewards, costs and agents")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--plugin", action="append", default=[], help="load a plug-in file or module first"
    )
    parser.set_defaults(handler=main)


def catalogue() -> dict[str, Any]:
    """Everything ``list`` shows, as JSON-serializable data."""
    from baselines import AGENTS
    from darwin_bench.costs import COSTS, DEVICE_COSTS, DEVICES
    from darwin_bench.rewards import REWARD_PARAMS
    from darwin_bench.spaces import SPACES
    from envs.registration import ENVS

    return {
        "envs": [
            {"id": e.id, "form": e.form, "kwargs": e.kwargs, "description": e.description}
            for e in ENVS
        ],
        "spaces": sorted(SPACES),
        "rewards": {name: list(params) for name, params in REWARD_PARAMS.items()},
        "costs": {
            **COSTS,
            **{f"{c}@<device>": m for c, m in DEVICE_COSTS.items()},
        },
        "devices": sorted(DEVICES),
        "agents": {name: cls.forms for name, cls in AGENTS.items()},
    }


def main(args: argparse.Namespace) -> int:
    from darwin_bench.registration_api import load_plugin

    for plugin in args.plugin:
        with option("--plugin"):
            load_plugin(plugin)
    data = catalogue()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    console = Console()
    table = Table(title="Environments (descriptions: darwin-bench list --json)")
    table.add_column("id", no_wrap=True)
    for col in ("form", "task", "space"):
        table.add_column(col, no_wrap=True)
    for env in data["envs"]:
        kwargs = env["kwargs"]
        task = kwargs.get("task", "")
        table.add_row(
            env["id"],
            env["form"],
            task if isinstance(task, str) else "plug-in",
            str(kwargs.get("space", "")),
        )
    print_table(console, table)
    table = Table(title="Rewards and costs")
    table.add_column("reward")
    table.add_column("parameters")
    for name, params in data["rewards"].items():
        table.add_row(name, ", ".join(params) or "-")
    print_table(console, table)
    table = Table()
    table.add_column("cost")
    table.add_column("meaning")
    for name, meaning in data["costs"].items():
        table.add_row(name, meaning)
    print_table(console, table)
    console.print("devices (see `darwin-bench devices`): " + ", ".join(data["devices"]))
    console.print("spaces: " + ", ".join(data["spaces"]))
    console.print("agents: " + ", ".join(f"{a} ({'/'.join(f)})" for a, f in data["agents"].items()))
    return 0
