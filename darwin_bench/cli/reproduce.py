"""``darwin-bench reproduce NAME``: re-run one of the source papers' experiments and print JSON.

Each reproduction is a module listed in :data:`REPRODUCTIONS` with one function::

    def reproduce(*, out: Path, seed: int, options: dict) -> dict

that measures (never hard-codes), writes its plot(s) under ``out`` and returns a
JSON-serializable result. Unknown ``options`` keys must raise ``ValueError``.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from darwin_bench.cli.common import json_dict, out_folder, seed_int

#: Reproduction name -> module with ``reproduce(*, out, seed, options) -> dict``.
REPRODUCTIONS: dict[str, str] = {
    "specialization": "baselines.reproduce_specialization",
    "darwin": "baselines.reproduce_darwin",  # seed 000: evolutionary synthesis, generations 0-4
}
#: Reproduction name -> the name of its options' ``Config`` class in its module.
OPTIONS: dict[str, str] = {"specialization": "SpecializationConfig", "darwin": "DarwinConfig"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reproduce", help="reproduce a source paper's experiment (prints JSON, writes a plot)"
    )
    parser.add_argument("name", help=f"one of: {', '.join(REPRODUCTIONS)}")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--out", default="runs/reproduce", help="folder for plots and logs")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--options", default=None, help="reproduction options as a JSON object (see docs)"
    )
    parser.add_argument(
        "--task",
        default=None,
        help="run only this task's row (darwin: digits or mnist5k); same as options' tasks",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from darwin_bench.validation import check_choice

    check_choice("reproduction", args.name, REPRODUCTIONS)
    out_folder("--out", args.out)
    options = json_dict("--options", args.options)
    if args.task is not None:
        options["tasks"] = [args.task]
    module = importlib.import_module(REPRODUCTIONS[args.name])
    try:  # checked here so that the error names the option
        getattr(module, OPTIONS[args.name]).from_dict(options)
    except ValueError as exc:
        raise ValueError(f"--options: {exc}") from None
    result = module.reproduce(out=Path(args.out), seed=int(args.seed), options=options)
    text = json.dumps(result, indent=None if args.json else 2, sort_keys=False)
    print(text)
    return 0
