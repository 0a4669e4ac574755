"""Resolving an agent named on the command line: a built-in name, ``path.py:Class`` or
``module:Class``, and recording where it came from.

A run log's header carries the agent's source (:attr:`AgentSpec.source`): the spec as typed,
its kind (``builtin``, ``file`` or ``module``), the file and class, and the SHA-256 of the
source file, so that the leaderboard's replay audit can re-run exactly that agent and refuse a
file that changed (:func:`resolve_logged_agent`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from baselines.base import Agent, AgentConfig
from darwin_bench.hashing import file_sha256
from darwin_bench.importing import import_file, import_module
from darwin_bench.version import __version__

#: Source keys that identify an agent's code (the spec as typed may differ, e.g. a path).
IDENTITY = ("kind", "class", "sha256")


@dataclass(frozen=True)
class AgentSpec:
    """An agent class and where it came from.

    Attributes:
        cls: the agent class.
        source: JSON-able provenance, recorded in run logs (see the module docstring).
    """

    cls: type[Agent[Any]]
    source: dict[str, Any]

    @property
    def name(self) -> str:
        """The agent's name in run logs, file names and tables: the ``name`` its class sets
        itself, else the class name (so that a subclass of a built-in agent is not mistaken
        for it)."""
        own = self.cls.__dict__.get("name")
        return str(own) if isinstance(own, str) else self.cls.__name__

    def make(self, config: dict[str, Any] | None = None) -> Agent[Any]:
        """An instance with a config built from JSON-like data.

        Raises:
            ValueError: for an unknown config key or an ill-typed value (naming the field).
        """
        return self.cls(self.cls.config_class.from_dict(config))


def _agent_classes(module: ModuleType) -> list[type[Agent[Any]]]:
    """Concrete agent classes defined in ``module`` itself (not imported into it)."""
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Agent)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]


def _check_class(value: Any, spec: str) -> type[Agent[Any]]:
    if not (inspect.isclass(value) and issubclass(value, Agent)):
        raise ValueError(
            f"agent {spec!r} is not an Agent: subclass baselines.Agent (got "
            f"{type(value).__name__} {getattr(value, '__name__', value)!r})"
        )
    if inspect.isabstract(value):
        missing = sorted(getattr(value, "__abstractmethods__", ()))
        raise ValueError(f"agent {spec!r} is abstract: it must define {', '.join(missing)}")
    if not issubclass(value.config_class, AgentConfig):
        raise ValueError(f"agent {spec!r}: config_class must subclass baselines.AgentConfig")
    return value


def _from_module(module: ModuleType, class_name: str, spec: str) -> type[Agent[Any]]:
    if class_name:
        if not hasattr(module, class_name):
            found = ", ".join(c.__name__ for c in _agent_classes(module)) or "none"
            raise ValueError(
                f"agent {spec!r}: no class {class_name!r} there; its agent classes: {found}"
            )
        return _check_class(getattr(module, class_name), spec)
    classes = _agent_classes(module)
    if len(classes) != 1:
        found = ", ".join(c.__name__ for c in classes) or "none"
        raise ValueError(
            f"agent {spec!r} defines {len(classes)} agent classes ({found}); name one as "
            f"{spec}:CLASS"
        )
    return classes[0]


def resolve_agent(spec: str) -> AgentSpec:
    """Resolve ``spec``: a built-in agent name, ``path.py:Class``, ``path.py`` (a file that
    defines exactly one agent class) or ``module:Class``.

    Raises:
        ValueError: for an unknown built-in name (listing them), a missing file or module, a
            file that fails to import, a missing class, or a class that is not a concrete
            :class:`~baselines.base.Agent`.
    """
    from baselines import AGENTS

    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"agent must be a name, path.py:Class or module:Class; got {spec!r}")
    spec = spec.strip()
    where, sep, class_name = spec.rpartition(":")
    if not sep and not spec.endswith(".py"):
        if spec not in AGENTS:
            raise ValueError(
                f"agent must be one of {', '.join(map(repr, AGENTS))} (or a user's agent as "
                f"path.py:Class or module:Class); got {spec!r}"
            )
        cls = AGENTS[spec]
        path = inspect.getsourcefile(cls)
        source = {"kind": "builtin", "spec": spec, "module": cls.__module__}
        return AgentSpec(cls, _with_file(source, cls, path))
    if not sep:
        where, class_name = spec, ""
    if where.endswith(".py") or Path(where).expanduser().is_file():
        module = import_file(where, "agent file")
        cls = _from_module(module, class_name, spec)
        path = str(Path(where).expanduser().resolve())
        return AgentSpec(cls, _with_file({"kind": "file", "spec": spec}, cls, path))
    module = import_module(where, "agent module")
    cls = _from_module(module, class_name, spec)
    source = {"kind": "module", "spec": spec, "module": where}
    return AgentSpec(cls, _with_file(source, cls, getattr(module, "__file__", None)))


def _with_file(source: dict[str, Any], cls: type, path: str | None) -> dict[str, Any]:
    return {
        **source,
        "class": cls.__qualname__,
        "path": path,
        "sha256": file_sha256(path) if path else None,
        "darwin_bench": __version__,
    }


def same_agent(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """True when two recorded sources name the same code (kind, class and file hash), or when
    either is unknown (a log written before sources were recorded) or built-in (built-in
    agents are identified by the package version)."""
    if not a or not b or a.get("kind") == b.get("kind") == "builtin":
        return True
    return all(a.get(k) == b.get(k) for k in IDENTITY)


def resolve_logged_agent(header: dict[str, Any]) -> AgentSpec:
    """The agent a run log was made with, resolved again from its recorded source.

    Raises:
        ValueError: when the log records no source, the source cannot be resolved, or its
            file changed since the run (another SHA-256).
    """
    source = header.get("agent_source")
    if not isinstance(source, dict) or "spec" not in source:
        raise ValueError("header has no agent_source: the run log predates recorded sources")
    spec = resolve_agent(str(source["spec"]))
    if not same_agent(source, spec.source):
        raise ValueError(
            f"agent {source['spec']!r} changed since the run: its source file now has sha256 "
            f"{spec.source['sha256']}, the log recorded {source.get('sha256')}"
        )
    return spec
