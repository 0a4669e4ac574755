"""The plug-in API of the core: registering users' tasks as envs and loading plug-in files.

::

    import gymnasium, darwin_bench
    task = darwin_bench.tasks.from_arrays(X, y, name="wine")
    env_id = darwin_bench.register(task, space="mlp")   # "darwin_bench/Wine-MLP-v0"
    env = gymnasium.make(env_id)

The registries are envs' (:mod:`envs.registration`, :mod:`envs.tasks`), so the work is done in
:mod:`envs.plugins`; these functions forward to it lazily, as :func:`darwin_bench.make` does
(the core never imports ``envs`` at import time). Their documentation is there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from darwin_bench.tasks.base import Task


def register(
    task: Task,
    space: str = "mlp",
    *,
    name: str | None = None,
    version: int = 0,
    description: str = "",
    **env_kwargs: Any,
) -> str:
    """Register ``task`` with a search space as a proposal env (and its builder twin).

    See :func:`envs.plugins.register`; returns ``"darwin_bench/<Name>-<SPACE>-v<version>"``.

    Raises:
        ValueError: for a non-task, an unknown space, bad env kwargs, or a built-in env's id.
    """
    from envs import plugins

    return plugins.register(
        task, space, name=name, version=version, description=description, **env_kwargs
    )


def unregister(env_id: str) -> None:
    """Remove an env added by :func:`register` (see :func:`envs.plugins.unregister`).

    Raises:
        ValueError: when ``env_id`` was not registered by :func:`register`.
    """
    from envs import plugins

    plugins.unregister(env_id)


def load_plugin(plugin: str) -> list[str]:
    """Import a plug-in file or module once; the env ids it registered (:mod:`envs.plugins`).

    Raises:
        ValueError: when the file does not exist or the module cannot be imported.
    """
    from envs import plugins

    return plugins.load_plugin(plugin)


def resolve_env(text: str) -> str:
    """A command line's ``--env`` (``ID``, ``PLUGIN:ID`` or ``PLUGIN.py``) as an env id.

    See :func:`envs.plugins.resolve_env`.

    Raises:
        ValueError: for a plug-in that cannot be loaded or an id that is not registered.
    """
    from envs import plugins

    return plugins.resolve_env(text)
