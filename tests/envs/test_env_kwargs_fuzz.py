"""Property-based: env kwargs fuzzed. Any kwargs either make an env that resets and steps, or
raise ``ValueError`` (naming the kwarg); never a ``TypeError``, ``KeyError`` or the like."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

MLP = "darwin_bench/Digits-MLP-v0"

small = (
    st.none()
    | st.booleans()
    | st.integers(-3, 5)
    | st.floats(-2, 5, allow_nan=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    small,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def keyed(names: list[str]) -> st.SearchStrategy[dict]:
    """Dicts over some of ``names`` (and a stray name) with small JSON values."""
    keys = st.sampled_from([*names, "nope"])
    return st.dictionaries(keys, small | json_values, max_size=3)


#: Env kwargs and what to try for each (workers, time_limit and cache_path start processes or
#: files; the CLI's bad-input catalogue covers them).
KWARGS = {
    "task": st.sampled_from(["digits", "nope", "", 5, None]),
    "space": st.sampled_from(["mlp", "cnn", "rnn", "fcn", "nope", 3]),
    "task_kwargs": keyed(["image", "epochs", "lr", "batch_size"]) | json_values,
    "space_kwargs": keyed(["max_layers", "min_layers"]) | json_values,
    "reward": st.sampled_from(["accuracy", "linear", "mnasnet", "constrained", "multi", "x", 1]),
    "cost": st.sampled_from(["flops", "params", "synapses", "latency_ms", "x", "flops@x", 2]),
    "target": small,
    "reward_kwargs": keyed(["weight", "alpha", "beta", "w"]) | json_values,
    "costs": st.lists(st.sampled_from(["flops", "params", "x", 1]), max_size=2) | small,
    "targets": keyed(["flops", "params"]) | small,
    "score_range": st.lists(small, max_size=3) | small,
    "budget": small,
    "epochs": small,
    "fidelity": keyed(["epochs"]) | json_values,
    "measure_latency": small,
    "latency_repeats": small,
    "max_params": st.sampled_from([None, 1, 1000, 10**6, 0, -1, 2.5, "x"]),
    "max_activation_mb": st.sampled_from([None, 0.001, 1.0, 0, -1, "x"]),
    "nope": small,
}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=st.fixed_dictionaries({}, optional=KWARGS))
def test_any_kwargs_make_a_working_env_or_raise_value_error(kwargs: dict) -> None:
    kwargs.setdefault("measure_latency", False)
    kwargs.setdefault("epochs", 1)
    try:
        env = gym.make(MLP, **kwargs)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        event("refused with a ValueError")
        return
    event("made an env that resets and steps")
    try:
        env.reset(seed=0)
        space = env.unwrapped.search_space
        _, reward, _, _, info = env.step(space.sample(np.random.default_rng(0)))
        assert np.isfinite(reward) and info["status"] in ("ok", "failed")
    finally:
        env.close()
