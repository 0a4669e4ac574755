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
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

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
    "darwin_bench.cli.reliability",
]


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: Exceptions that mean bad input (an option, a file, a dataset), never a bug: one line, exit 2.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from darwin_bench.version import __version__

    parser = Parser(
        prog="darwin-bench",
        description="Neural-architecture search as Gymnasium environments.",
    )
    parser.add_argument("--version", action="version", version=f"darwin-bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``darwin-bench`` console script.

    Bad input (a ``ValueError`` from the library, an ``OSError`` such as a missing or
    unwritable file, a dataset that cannot be had) exits with code 2 and one line on stderr.
    Output cut short by a closed pipe (``darwin-bench list | head``) exits quietly.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (code 2, one line), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    from darwin_bench.data.download import DatasetUnavailableError

    user_errors: tuple[type[BaseException], ...] = (*USER_ERRORS, DatasetUnavailableError)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a process killed by a closed pipe
    except user_errors as exc:  # one line, exit 2
        from darwin_bench.cli.common import one_line

        print(f"darwin-bench {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's exit-time flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured by a test)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
