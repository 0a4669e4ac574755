"""darwin_bench: neural-architecture search posed as Gymnasium environments.

Importing the package registers its environments (``darwin_bench/<Task>-<Space>[-<Mode>]-v0``)
with Gymnasium, Minigrid style::

    import gymnasium as gym
    import darwin_bench

    env = gym.make("darwin_bench/Digits-MLP-v0", budget=20)
"""

from __future__ import annotations

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

__all__ = ["Architecture", "__version__", "make"]
