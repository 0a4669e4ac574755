"""darwin_bench: neural-architecture search posed as Gymnasium environments.

Importing the package registers its environments (``darwin_bench/<Task>-<Space>[-<Mode>]-v0``)
with Gymnasium, Minigrid style::

    import gymnasium as gym
    import darwin_bench

    env = gym.make("darwin_bench/Digits-MLP-v0", budget=20)
"""

from __future__ import annotations

import importlib
from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.version import __version__


def make(env_id: str, **kwargs: Any) -> Any:
    """``gymnasium.make`` for darwin_bench ids, with a ``ValueError`` listing the known ids.

    Raises:
        ValueError: when ``env_id`` is not a registered darwin_bench env.
    """
    import gymnasium as gym

    from envs.registration import get_entry

    get_entry(env_id)
    return gym.make(env_id, **kwargs)


def _register() -> None:
    # Registration is the one place the core reaches up into `envs` (Gymnasium 1.x has no
    # entry-point plugins, so envs must be registered when the package is imported).
    from envs.registration import register_envs

    register_envs()


_register()


def __getattr__(name: str) -> Any:
    # Heavier parts load on first use: `darwin_bench.tasks` (torch, data) and the plug-in API.
    if name == "tasks":
        return importlib.import_module("darwin_bench.tasks")
    if name in ("register", "unregister", "load_plugin"):
        return getattr(importlib.import_module("darwin_bench.registration_api"), name)
    raise AttributeError(f"module 'darwin_bench' has no attribute {name!r}")


__all__ = ["Architecture", "__version__", "load_plugin", "make", "register", "tasks", "unregister"]
