"""The vector PPO's fast path: hand-written gradients and Adam equal autograd and torch's Adam."""

from __future__ import annotations

import pytest
import torch
from gymnasium import spaces

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.tasks.dense_ppo import DenseActorCritic, dense_chain
from darwin_bench.tasks.ppo_config import PPOConfig
from darwin_bench.tasks.vector_ppo import (
    _Policy,
    make_policy,
    orthogonal_init,
    value_architecture,
)


def mlp(activation: str | None, dropout: float = 0.0, inputs: int = 5) -> Architecture:
    layers: list[dict] = []
    for units in (16, 8):
        layers.append({"type": "dense", "units": units, "activation": activation})
        if dropout:
            layers.append({"type": "dropout", "rate": dropout})
    layers.append({"type": "dense", "units": 3, "activation": None})
    return Architecture("mlp", (inputs,), 3, tuple(layers))


def both_paths(arch: Architecture, config: PPOConfig) -> tuple[DenseActorCritic, _Policy]:
    """The fast and the autograd path, from the same initial weights."""
    nets = []
    for _ in range(2):
        torch.manual_seed(1)
        actor = orthogonal_init(build_model(arch), 0.01)
        nets.append((actor, orthogonal_init(build_model(value_architecture(arch)), 1.0)))
    chain = dense_chain(arch)
    assert chain is not None
    slow = _Policy(*nets[1], spaces.Discrete(3))
    slow.config = config
    return DenseActorCritic(*nets[0], chain, config), slow


def minibatch(seed: int, n: int = 50) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    act = torch.randint(0, 3, (n,), generator=gen)
    old = torch.log_softmax(torch.randn(n, 3, generator=gen), 1).gather(1, act[:, None])
    adv, ret = torch.randn(n, generator=gen) * 2, torch.randn(n, generator=gen) * 5
    return torch.randn(n, 5, generator=gen), act, old.squeeze(1) * 0.5, adv, ret


@pytest.mark.parametrize("activation", ["tanh", "relu", "elu", "gelu", "sigmoid", None])
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_hand_written_gradients_equal_autograd(activation: str | None, dropout: float) -> None:
    config = PPOConfig(ent_coef=0.01, max_grad_norm=1e9)  # no clipping: raw gradients
    fast, slow = both_paths(mlp(activation, dropout), config)
    batch = minibatch(0)
    torch.manual_seed(7)  # the same dropout masks: actor then critic, one draw per layer
    fast.step(*batch, 0.2, 0.0)
    torch.manual_seed(7)
    slow.step(*batch, 0.2, 0.0)
    expected = torch.cat(
        [p.grad.flatten() for p in [*slow.actor.parameters(), *slow.critic.parameters()]]
    )
    torch.testing.assert_close(fast.grad, expected, rtol=1e-5, atol=1e-6)


def test_clipping_and_adam_equal_torch_over_many_steps() -> None:
    fast, slow = both_paths(mlp("tanh"), PPOConfig(max_grad_norm=0.5))
    for i in range(30):
        batch = minibatch(i)
        fast.step(*batch, 0.2, 1e-3)
        slow.step(*batch, 0.2, 1e-3)
    exported = fast.export()
    for ours, theirs in zip(exported.parameters(), slow.actor.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not exported.training


def test_fast_path_only_for_dense_chains_with_discrete_actions() -> None:
    assert dense_chain(mlp("relu", 0.1)) == [(16, "relu", 0.1), (8, "relu", 0.1), (3, None, 0.0)]
    conv = Architecture(
        "cnn",
        (1, 4, 4),
        3,
        (
            {"type": "conv2d", "filters": 2, "kernel": 3, "activation": "relu"},
            {"type": "flatten"},
            {"type": "dense", "units": 3, "activation": None},
        ),
    )
    assert dense_chain(conv) is None
    assert isinstance(make_policy(mlp("tanh"), spaces.Discrete(3), PPOConfig()), DenseActorCritic)
    box = spaces.Box(-1.0, 1.0, shape=(3,))
    assert isinstance(make_policy(mlp("tanh"), box, PPOConfig()), _Policy)


def test_non_finite_loss_is_training_diverged() -> None:
    from darwin_bench.tasks.base import TrainingDiverged

    fast, _ = both_paths(mlp("tanh"), PPOConfig())
    obs, act, old, adv, ret = minibatch(0)
    with pytest.raises(TrainingDiverged, match="PPO gradient became nan"):
        fast.step(obs, act, old, adv, ret * float("nan"), 0.2, 1e-3)


def test_packed_minibatches_hold_exactly_the_rows_of_each_field() -> None:
    from darwin_bench.tasks.vector_ppo import _minibatches

    n = 100
    batch = {
        "obs": torch.randn(n, 4),
        "act": torch.randint(0, 3, (n,)),
        **{k: torch.randn(n) for k in ("logp", "adv", "ret")},
    }
    config = PPOConfig(batch_size=32, n_epochs=2)
    torch.manual_seed(0)
    got = list(_minibatches(batch, config))
    torch.manual_seed(0)
    expected = []
    for _ in range(config.n_epochs):
        order = torch.randperm(n)
        for start in range(0, n, 32):
            idx = order[start : start + 32]
            expected.append(tuple(batch[k][idx] for k in ("obs", "act", "logp", "adv", "ret")))
    assert len(got) == len(expected) == 8  # 4 minibatches (the last of 4 rows) per epoch
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and torch.equal(a, b)
