"""Helpers shared by the CLI's subcommands: typed arguments, JSON arguments, genome parsing,
env kwargs, output folders and consoles that stay readable when piped."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement

from darwin_bench.validation import MAX_SEED, check_seed


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1); got {text!r}")
    return value


def seed_int(text: str) -> int:
    """An ``argparse`` type: a seed in ``0..2**32-1`` (see :func:`check_seed`)."""
    value = _int(text)
    try:
        return check_seed("seed", value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer in 0..{MAX_SEED}; got {text!r}"
        ) from None


def positive_float(text: str) -> float:
    """An ``argparse`` type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None


def json_dict(field: str, text: str | None, example: str | None = None) -> dict[str, Any]:
    """Parse a JSON object given on the command line.

    Args:
        field: the option's name, for errors.
        text: the option's value (``None`` or empty: ``{}``).
        example: a valid value of this option, shown in errors.

    Raises:
        ValueError: naming ``field`` when the text is not a JSON object.
    """
    if not text:
        return {}
    wanted = f"{field} must be a JSON object" + (f", e.g. '{example}'" if example else "")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{wanted}: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{wanted}; got {type(value).__name__}")
    return value


def config_example(config_class: type) -> str:
    """A valid ``--agent-config`` for an agent's config class: its first field at its default."""
    for f in dataclasses.fields(config_class):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        try:
            return json.dumps({f.name: default})
        except TypeError:
            continue
    return "{}"


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


def out_folder(option: str, path: str | Path) -> Path:
    """Check that ``path`` can be an output folder (creating it), naming ``option`` if not.

    Raises:
        ValueError: when ``path`` (or a parent) is a file, or the folder cannot be created.
    """
    folder = Path(path).expanduser()
    if not str(path).strip():
        raise ValueError(f"{option} must name a folder; got an empty string")
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            raise ValueError(f"{option} must be a folder; {part} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create folder {folder}: {exc.strerror}") from None
    return folder


@contextlib.contextmanager
def option(name: str) -> Iterator[None]:
    """Prefix a ``ValueError`` or ``OSError`` raised in the block with the option it is about
    (unless the message already names it), so the CLI's one-line error says which input to fix.
    """
    try:
        yield
    except (ValueError, OSError) as exc:
        message = one_line(exc)
        bare = name.lstrip("-").replace("-", "_")
        if message.startswith((name, bare, name.lstrip("-"))):
            raise ValueError(message) from None
        raise ValueError(f"{name}: {message}") from None


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (with the file for an ``OSError``)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resolve_env_option(text: str) -> str:
    """``--env``: an env id, or ``PLUGIN:ID`` whose plug-in is loaded first."""
    from darwin_bench.registration_api import resolve_env

    with option("--env"):
        return resolve_env(text)


def add_env_kwargs(parser: argparse.ArgumentParser) -> None:
    """Add ``--env-kwargs`` and the common shortcuts (``--reward``, ``--cost``, ...)."""
    parser.add_argument("--env-kwargs", default=None, help="extra env kwargs as a JSON object")
    parser.add_argument("--reward", default=None, help="reward name (see `darwin-bench list`)")
    parser.add_argument("--cost", default=None, help="cost name (see `darwin-bench list`)")
    parser.add_argument(
        "--target", type=positive_float, default=None, help="cost target of the reward"
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=None, help="training epochs per network"
    )
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
    """Collect env kwargs from ``--env-kwargs`` and the shortcuts.

    Raises:
        ValueError: for ``budget`` in ``--env-kwargs`` (the command sets it), or a shortcut
            (``--epochs``, ...) that disagrees with the same key in ``--env-kwargs``.
    """
    kwargs = json_dict("--env-kwargs", args.env_kwargs, '{"epochs": 5, "reward": "accuracy"}')
    if "budget" in kwargs:
        raise ValueError(
            "--env-kwargs: leave out 'budget'; --budget sets it (run, compare), and evaluate "
            "and bench-task evaluate one network per run"
        )
    for name in ("reward", "cost", "target", "epochs", "executor", "budget_kind"):
        value = getattr(args, name, None)
        if value is None:
            continue
        if name in kwargs and kwargs[name] != value:
            raise ValueError(
                f"--{name} {value!r} and --env-kwargs {name}={kwargs[name]!r} disagree; give one"
            )
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


def checked_budget(kind: str, amount: float) -> float:
    """``--budget`` checked against its kind (whole evaluations, or any number > 0).

    Raises:
        ValueError: naming ``--budget`` and what is allowed.
    """
    from darwin_bench.budgets import check_budget

    try:
        return check_budget(kind, amount)
    except ValueError as exc:
        raise ValueError(f"--budget: {exc}") from None


def budget_column(kind: str) -> Any:
    """The progress column of a budget: ``12/100`` evaluations, else a percentage."""
    from rich.progress import MofNCompleteColumn, TaskProgressColumn

    return MofNCompleteColumn() if kind == "evaluations" else TaskProgressColumn()


#: Widest table a file or pipe gets (wider cells fold rather than make unbounded lines).
PIPE_WIDTH = 400


def print_table(console: Console, table: Any) -> None:
    """Print a table; to a file or pipe at its natural width, so that no cell is cut short.

    A terminal's tables fit its width (rich folds or shortens cells); a file or pipe has no
    width, so there the table gets as many columns as its content needs (up to
    :data:`PIPE_WIDTH`).
    """
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(PIPE_WIDTH), table).maximum
    saved = console.width
    console.width = max(saved, min(natural, PIPE_WIDTH))
    try:
        console.print(table)
    finally:
        console.width = saved
