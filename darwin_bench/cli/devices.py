"""``darwin-bench devices``: the device profiles, their figures and the source of each figure."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from darwin_bench.cli.common import option, print_table

FIGURES = (
    ("kind", "kind"),
    ("dtype", "dtype"),
    ("peak_gflops", "peak GFLOP/s"),
    ("memory_bandwidth_gbs", "DRAM GB/s"),
    ("on_chip_bytes", "on-chip bytes"),
    ("layer_overhead_us", "layer us"),
    ("inference_overhead_us", "inference us"),
    ("unstructured_sparsity", "unstructured sparsity helps"),
    ("structured_sparsity", "cluster sparsity helps"),
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devices", help="list device profiles (modeled latency / energy) with their sources"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--profile", default=None, help="validate a profile JSON file and list it too"
    )
    parser.set_defaults(handler=main)


def catalogue(extra: str | None = None) -> dict[str, Any]:
    """The profiles as JSON-serializable data (every figure is modeled input, hence the flag)."""
    from darwin_bench.costs import DEVICE_COSTS, DEVICES, load_profile

    profiles = dict(DEVICES)
    if extra:
        profile = load_profile(extra)
        profiles[profile.name] = profile
    return {
        "modeled": True,
        "costs": {f"{c}@<device>": meaning for c, meaning in DEVICE_COSTS.items()},
        "devices": [p.model_dump(mode="json") for p in profiles.values()],
    }


def main(args: argparse.Namespace) -> int:
    with option("--profile"):
        data = catalogue(args.profile)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    console = Console()
    table = Table(title="Device profiles (figures feed *modeled* costs: latency_ms@, energy_mj@)")
    table.add_column("device", no_wrap=True)
    for _, title in FIGURES:
        table.add_column(title, justify="right")
    for device in data["devices"]:
        table.add_row(device["name"], *(_fmt(device[key]) for key, _ in FIGURES))
    print_table(console, table)
    for device in data["devices"]:
        sources = Table(title=f"{device['name']}: {device['description']}", show_header=False)
        sources.add_column("figure", no_wrap=True)
        sources.add_column("source")
        for key, text in device["sources"].items():
            sources.add_row(key, text)
        if device.get("calibration"):
            sources.add_row("calibration", device["calibration"]["model"])
        print_table(console, sources)
    console.print("All device figures are inputs of *modeled* costs, not measurements there.")
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
