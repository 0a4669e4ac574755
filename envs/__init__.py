"""The Gymnasium environments of darwin_bench and the standardized task registry."""

from __future__ import annotations

from envs.registration import ENVS, EnvEntry, env_ids, get_entry, register_envs

__all__ = ["ENVS", "EnvEntry", "env_ids", "get_entry", "register_envs"]
