"""Helpers shared by the CLI's subcommands: JSON arguments, genome parsing, env kwargs."""

from __future__ import annotations

import argparse
import json
from typing import Any


def json_dict(field: str, text: str | None) -> dict[str, Any]:
    """Parse a JSON object given on the command line.

    Raises:
        ValueError: naming ``field`` when the text is not a JSON object.
    """
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{field} must be a JSON object, e.g. '{{\"epochs\": 5}}': {exc}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"{field} must be a JSON object; got {type(value).__name__}")
    return value


def parse_genome(text: str) -> list[int]:
    """Parse ``"1,3,0,2"``, ``"1 3 0 2"`` or ``"[1, 3, 0, 2]"`` into a list of ints.

    Raises:
        ValueError: when an entry is not an integer.
    """
    cleaned = text.strip().strip("[]").replace(",", " ")
    try:
        return [int(tok) for tok in cleaned.split()]
    except ValueError:
        raise ValueError(f"genome must be integers separated by commas; got {text!r}") from None


def add_env_kwargs(parser: argparse.ArgumentParser) -> None:
    """Add ``--env-kwargs`` and the common shortcuts (``--reward``, ``--cost``, ...)."""
    parser.add_argument("--env-kwargs", default=None, help="extra env kwargs as a JSON object")
    parser.add_argument("--reward", default=None, help="reward name (see `darwin-bench list`)")
    parser.add_argument("--cost", default=None, help="cost name (see `darwin-bench list`)")
    parser.add_argument("--target", type=float, default=None, help="cost target of the reward")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per network")
    parser.add_argument(
        "--executor",
        default=None,
        help="where networks train: local (default), ray, or ray:ADDRESS (a Ray cluster, "
        "e.g. ray:auto or ray:ray://HEAD:10001; needs darwin-bench[ray])",
    )
    parser.add_argument(
        "--budget-kind",
        default=None,
        help="what --budget counts: evaluations (default), train_flops or seconds",
    )


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Collect env kwargs from ``--env-kwargs`` and the shortcuts."""
    kwargs = json_dict("--env-kwargs", args.env_kwargs)
    for name in ("reward", "cost", "target", "epochs", "executor", "budget_kind"):
        value = getattr(args, name, None)
        if value is not None:
            kwargs[name] = value
    return kwargs


def budget_number(text: str) -> float:
    """Parse ``--budget``: ``200``, ``2e12`` or ``90.5`` (checked against the budget kind later).

    Raises:
        argparse.ArgumentTypeError: when the text is not a number.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number (e.g. 200 evaluations, 2e12 train_flops); got {text!r}"
        ) from None
    return int(value) if value.is_integer() else value


def budget_column(kind: str) -> Any:
    """The progress column of a budget: ``12/100`` evaluations, else a percentage."""
    from rich.progress import MofNCompleteColumn, TaskProgressColumn

    return MofNCompleteColumn() if kind == "evaluations" else TaskProgressColumn()
