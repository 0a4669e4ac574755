"""Importing a user's Python file or module by name, with one-line errors (plug-ins, agents)."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType

from darwin_bench.hashing import content_hash, file_sha256

#: Files imported so far: (resolved path, source digest) -> module.
_FILES: dict[tuple[str, str], ModuleType] = {}


def _where(exc: BaseException, path: Path) -> str:
    """``Type: message (file, line N)``, the line being the file's own that raised."""
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    text = (exc.msg if isinstance(exc, SyntaxError) else str(exc)) or ""
    detail = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {detail} ({path.name}, line {line})"


def import_file(path: str | Path, what: str = "file") -> ModuleType:
    """Import a ``.py`` file as a module of its own (once per content: an edited file is
    imported again).

    Args:
        path: the file.
        what: how errors name it, e.g. ``"agent file"``.

    Raises:
        ValueError: when the file does not exist or raises while it is imported (one line
            naming the exception and the file's line).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist")
    resolved = file.resolve()
    key = (str(resolved), file_sha256(resolved))
    if key in _FILES:
        return _FILES[key]
    digest = content_hash(list(key))[:8]
    stem = re.sub(r"\W", "_", file.stem)
    name = f"darwin_bench_user_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always load
        raise ValueError(f"{what} {str(path)!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: say where it failed, in one line
        del sys.modules[name]
        raise ValueError(f"{what} {str(path)!r} failed to import: {_where(exc, file)}") from None
    _FILES[key] = module
    return module


def import_module(name: str, what: str = "module") -> ModuleType:
    """Import a module by its dotted name, from the Python path or the current directory.

    A console script (``darwin-bench``) does not put the current directory on ``sys.path`` as
    ``python -m`` does, so ``my_agents:Greedy`` typed in the folder holding ``my_agents.py``
    would not be found. When the module's top-level package or file is in the current
    directory, that directory is appended to ``sys.path`` (after everything else, so it never
    shadows an installed package), as uvicorn and gunicorn do for ``module:app``.

    Raises:
        ValueError: when it cannot be found or raises while it is imported.
    """
    try:
        _current_directory_for(name)
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"{what} {name!r} cannot be imported ({exc})") from None
    except Exception as exc:
        raise ValueError(f"{what} {name!r} failed to import: {type(exc).__name__}: {exc}") from None


def _current_directory_for(name: str) -> None:
    """Append the current directory to ``sys.path`` when ``name``'s top level is there and is
    not importable from the path as it is."""
    top = name.split(".", 1)[0]
    here = Path.cwd()
    if not ((here / f"{top}.py").is_file() or (here / top).is_dir()):
        return
    if importlib.util.find_spec(top) is None and str(here) not in sys.path:
        sys.path.append(str(here))
