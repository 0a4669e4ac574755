"""The ``darwin-bench`` command line.

Each subcommand lives in its own module of this package with two functions::

    def add_parser(subparsers) -> None      # declare the subcommand and its arguments
    def main(args: argparse.Namespace) -> int

and is listed in :data:`COMMANDS`. Bad input (a ``ValueError`` from the library) exits with
code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: list[str] = [
    "darwin_bench.cli.list_envs",
    "darwin_bench.cli.evaluate",
    "darwin_bench.cli.run",
    "darwin_bench.cli.bench_task",
    "darwin_bench.cli.devices",
    "darwin_bench.cli.perf",
    "darwin_bench.cli.reproduce",
    "darwin_bench.cli.compare",
    "darwin_bench.cli.table",
    "darwin_bench.cli.leaderboard",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from darwin_bench.version import __version__

    parser = argparse.ArgumentParser(
        prog="darwin-bench",
        description="Neural-architecture search as Gymnasium environments.",
    )
    parser.add_argument("--version", action="version", version=f"darwin-bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``darwin-bench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from darwin_bench.data.download import DatasetUnavailableError

    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError, DatasetUnavailableError) as exc:  # one line, exit 2
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"darwin-bench {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
