"""Registering users' tasks as darwin_bench envs, and loading plug-in files.

The public API is ``darwin_bench.register`` / ``unregister`` / ``load_plugin``
(:mod:`darwin_bench.registration_api` forwards here, as ``darwin_bench.make`` forwards to
:mod:`envs.registration`)::

    import gymnasium, darwin_bench
    task = darwin_bench.tasks.from_arrays(X, y, name="wine")
    env_id = darwin_bench.register(task, space="mlp")   # "darwin_bench/Wine-MLP-v0"
    env = gymnasium.make(env_id)

A registered env is an ordinary entry of :data:`envs.registration.ENVS` (a proposal env), so
every agent, ``darwin-bench list`` and the runner see it. On the command line a plug-in is a
Python file or module that calls :func:`register` at import; ``--env PLUGIN:ID`` loads it first
(see :func:`resolve_env` and docs/plugins.md).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from darwin_bench.importing import import_file
from darwin_bench.tasks.base import Task
from envs.core import SearchCore
from envs.registration import ENVS, NAMESPACE, EnvEntry, env_ids, get_entry, register_entry
from envs.tasks import TASKS, register_task

#: Env ids registered through :func:`register` (only these may be replaced or unregistered).
PLUGIN_IDS: set[str] = set()
#: Plug-in files and modules loaded so far -> the env ids each registered.
_LOADED: dict[str, list[str]] = {}


def _stem(name: str) -> str:
    """``"wine"`` -> ``"Wine"``, ``"my_task"`` -> ``"MyTask"``."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    if not parts:
        raise ValueError(f"name must contain letters or digits; got {name!r}")
    return "".join(p[0].upper() + p[1:] for p in parts)


def _test_kwargs(task: Task) -> dict[str, Any]:
    """Fast settings for the registry-parametrized tests: the smallest fidelity of each kind."""
    small = {"epochs": 1, "timesteps": 512, "train_size": 256}
    return {"fidelity": {k: min(v, small.get(k, v)) for k, v in task.fidelities.items()}}


def register(
    task: Task,
    space: str = "mlp",
    *,
    name: str | None = None,
    version: int = 0,
    description: str = "",
    **env_kwargs: Any,
) -> str:
    """Register ``task`` with a search space as a proposal env and return its id.

    Args:
        task: any :class:`~darwin_bench.tasks.Task`, e.g. from ``darwin_bench.tasks.from_arrays``
            or ``darwin_bench.tasks.from_gym``.
        space: a search-space name (``"mlp"``, ``"cnn"``, ...).
        name: the id's stem (default: the task's name in CamelCase: ``wine`` -> ``Wine``).
        version: the id's version number.
        description: one line for ``darwin-bench list``.
        **env_kwargs: default env kwargs (``reward``, ``cost``, ``target``, ``budget``,
            ``epochs``, ``fidelity``, ...), as for any darwin_bench env.

    Returns:
        The new id, ``"darwin_bench/<Name>-<SPACE>-v<version>"``; ``gymnasium.make`` takes it.
        Its builder twin (one gene per step, for builder agents such as ``ppo``) is registered
        too, as ``"darwin_bench/<Name>-<SPACE>-Builder-v<version>"``.

    Raises:
        ValueError: for a non-task, an unknown space, bad env kwargs, or an id that a built-in
            env already uses.
    """
    env_id = _plugin_id(task, space, name, version)
    key = _task_key(env_id)
    kwargs = {"task": key, "space": space, **env_kwargs}
    SearchCore(**{**kwargs, "task": task, "measure_latency": False})  # bad kwargs fail here
    register_task(key, _instance_factory(task))
    entry = EnvEntry(
        env_id,
        "proposal",
        kwargs,
        description or f"plug-in: {type(task).__name__} {task.name!r}, {space} space",
        _test_kwargs(task),
    )
    builder = EnvEntry(
        builder_id(env_id),
        "builder",
        kwargs,
        f"{env_id} built one gene per step with action masks (for builder agents)",
        _test_kwargs(task),
    )
    ENVS[:] = [e for e in ENVS if e.id not in (entry.id, builder.id)]
    ENVS.extend([entry, builder])
    register_entry(entry)
    register_entry(builder)
    PLUGIN_IDS.add(env_id)
    return env_id


def _plugin_id(task: Task, space: str, name: str | None, version: int) -> str:
    """The checked id :func:`register` gives ``task`` in ``space``.

    Raises:
        ValueError: for a non-task, a bad version or space, or the id of a built-in env.
    """
    if not isinstance(task, Task):
        raise ValueError(
            f"task must be a darwin_bench Task (e.g. from darwin_bench.tasks.from_arrays); "
            f"got {type(task).__name__}"
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version must be an integer >= 0; got {version!r}")
    if not isinstance(space, str):
        raise ValueError(f"space must be a space name such as 'mlp'; got {space!r}")
    env_id = f"{NAMESPACE}/{_stem(name or task.name)}-{space.upper()}-v{version}"
    taken = (env_id, builder_id(env_id))
    if any(e.id in taken and env_id not in PLUGIN_IDS for e in ENVS):
        raise ValueError(f"{env_id} is a built-in darwin_bench env; pass another name= or version=")
    return env_id


def _task_key(env_id: str) -> str:
    """The task-registry key of a plug-in env's task: ``plugin:Wine-MLP-v0``."""
    return f"plugin:{env_id.split('/', 1)[1]}"


def _instance_factory(task: Task) -> Callable[..., Task]:
    """A task factory that returns ``task`` itself and refuses task kwargs."""

    def factory(**task_kwargs: Any) -> Task:
        if task_kwargs:
            raise ValueError(
                f"task_kwargs are not accepted by plug-in task {task.name!r} (an instance); "
                f"got {sorted(task_kwargs)}"
            )
        return task

    return factory


def builder_id(env_id: str) -> str:
    """The id of the builder twin of a registered proposal env: ``...-MLP-Builder-v0``."""
    stem, _, version = env_id.rpartition("-v")
    return f"{stem}-Builder-v{version}"


def unregister(env_id: str) -> None:
    """Remove an env added by :func:`register` (from ENVS, Gymnasium and the task registry).

    Raises:
        ValueError: when ``env_id`` was not registered by :func:`register`.
    """
    if env_id not in PLUGIN_IDS:
        raise ValueError(
            f"env_id must be one registered by darwin_bench.register: {sorted(PLUGIN_IDS)}; "
            f"got {env_id!r}"
        )
    ENVS[:] = [e for e in ENVS if e.id not in (env_id, builder_id(env_id))]
    for gym_id in (env_id, builder_id(env_id)):
        if gym_id in gym.registry:
            del gym.registry[gym_id]
    key = _task_key(env_id)
    register_task(key, TASKS[key])  # drops the cached instance
    del TASKS[key]
    PLUGIN_IDS.discard(env_id)
    for key in [k for k, ids in _LOADED.items() if env_id in ids]:
        del _LOADED[key]  # loading the plug-in again registers it again


def load_plugin(plugin: str) -> list[str]:
    """Import a plug-in (a ``.py`` file or a module name) once; return the env ids it registered.

    Raises:
        ValueError: when the file does not exist or the module cannot be imported.
    """
    path = Path(plugin).expanduser()
    is_file = plugin.endswith(".py") or path.is_file()
    key = str(path.resolve()) if is_file else plugin
    if key in _LOADED:
        return list(_LOADED[key])
    before = set(env_ids())
    if is_file:
        import_file(path, "plug-in file")
    else:
        try:
            importlib.import_module(plugin)
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"plug-in {plugin!r} is neither a .py file nor an importable module ({exc})"
            ) from None
    added = [i for i in env_ids() if i not in before]
    _LOADED[key] = added
    return list(added)


def resolve_env(text: str) -> str:
    """Resolve a command line's ``--env``: load a plug-in if one is named, return the env id.

    Forms: ``ID``; ``PLUGIN:ID`` (``PLUGIN`` a ``.py`` file or a module name, loaded first);
    ``PLUGIN.py`` alone when the file registers exactly one env. ``ID`` may omit the
    ``darwin_bench/`` namespace and the ``-v0`` version (``Wine-MLP``).

    Raises:
        ValueError: for a plug-in that cannot be loaded or an id that is not registered.
    """
    plugin, sep, env = text.rpartition(":")
    if not sep and text.endswith(".py"):
        added = [i for i in load_plugin(text) if i in PLUGIN_IDS]  # proposal envs
        if len(added) != 1:
            raise ValueError(
                f"plug-in {text!r} registered {len(added)} envs ({', '.join(added) or 'none'}); "
                f"name one with --env {text}:ID"
            )
        return added[0]
    if sep:
        load_plugin(plugin)
    if "/" not in env:
        env = f"{NAMESPACE}/{env}"
    if not re.search(r"-v\d+$", env):
        env = f"{env}-v0"
    return get_entry(env).id
