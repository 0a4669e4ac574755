"""The batched dense trainer: same math as the per-model trainer, and a network's result does
not depend on which networks share its batch (bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from darwin_bench.architecture import Architecture
from darwin_bench.batched import DenseNet, dense_layout, dense_net, load_weights, train_dense
from darwin_bench.models import build_model
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces import make_space
from darwin_bench.training import TrainConfig, train_supervised


def mlp(widths, acts, dropout=0.0, inputs=64, outputs=10) -> Architecture:
    layers = []
    for w, a in zip(widths, acts):
        layers.append({"type": "dense", "units": w, "activation": a})
        if dropout:
            layers.append({"type": "dropout", "rate": dropout})
    layers.append({"type": "dense", "units": outputs, "activation": None})
    return Architecture("mlp", (inputs,), outputs, tuple(layers))


@pytest.fixture(scope="module")
def data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(150, 64, generator=gen)
    y = (x[:, :10].argmax(1) + (x[:, 10] > 0).long()) % 10
    return x[:100], y[:100], x[100:], y[100:]


def equal_weights(a, b) -> bool:
    return all(
        torch.equal(p, q) for (w1, b1), (w2, b2) in zip(a, b) for p, q in ((w1, w2), (b1, b2))
    )


def test_dense_layout_accepts_plain_stacks_only() -> None:
    assert dense_layout(mlp((32, 16), ("relu", "gelu"), 0.2)) == (
        (64, 32, 16, 10),
        ("relu", "gelu"),
        (0.2, 0.2),
    )
    conv = Architecture("cnn", (1, 8, 8), 10, ({"type": "conv2d", "filters": 4, "kernel": 3},))
    assert dense_layout(conv) is None
    squashed = Architecture(
        "mlp", (64,), 10, ({"type": "dense", "units": 10, "activation": "relu"},)
    )
    assert dense_layout(squashed) is None  # an activated output layer is not batched
    flat = Architecture(
        "mlp",
        (1, 8, 8),
        10,
        ({"type": "flatten"}, {"type": "dense", "units": 10, "activation": None}),
    )
    assert dense_layout(flat) == ((64, 10), (), ())


def test_initial_weights_are_those_of_the_per_model_builder() -> None:
    architecture = mlp((32,), ("tanh",))
    net = dense_net(architecture, seed=5)
    with torch_determinism(5):
        model = build_model(architecture)
    assert equal_weights(net.init, [(m.weight, m.bias) for m in model if hasattr(m, "weight")])


def test_full_batch_training_matches_the_per_model_trainer(data) -> None:
    """Without dropout and with one minibatch per epoch (no data order), the batched trainer
    and ``train_supervised`` do the same arithmetic up to float rounding."""
    x, y, _, _ = data
    config = TrainConfig(lr=1e-2, batch_size=100, weight_decay=0.01, grad_clip=1.0)
    architectures = [
        mlp((32, 16), ("relu", "gelu")),
        mlp((16,), ("tanh",)),
        mlp((32, 16, 16), ("elu", "sigmoid", None)),
    ]
    runs = train_dense(
        [dense_net(a, i) for i, a in enumerate(architectures)],
        [0, 1, 2],
        (x, y),
        epochs=5,
        config=config,
    )
    for i, (architecture, run) in enumerate(zip(architectures, runs)):
        with torch_determinism(i):
            model = build_model(architecture)
        history = train_supervised(
            model, x, y, loss_fn=torch.nn.CrossEntropyLoss(), epochs=5, seed=i, config=config
        )
        np.testing.assert_allclose(run.history, history, rtol=1e-5)
        expected = [(m.weight, m.bias) for m in model if isinstance(m, torch.nn.Linear)]
        for (w1, b1), (w2, b2) in zip(run.weights, expected):
            torch.testing.assert_close(w1, w2.detach(), atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(b1, b2.detach(), atol=1e-5, rtol=1e-4)


def population(n: int, seed: int = 0) -> tuple[list[DenseNet], list[int]]:
    space = make_space("mlp", (64,), 10)
    rng = np.random.default_rng(seed)
    architectures = [space.decode(space.sample(rng)) for _ in range(n)]
    seeds = [100 + i for i in range(n)]
    return [dense_net(a, s) for a, s in zip(architectures, seeds)], seeds


def test_a_network_gets_the_same_bits_alone_and_in_any_batch(data) -> None:
    x, y, xv, yv = data
    nets, seeds = population(10)  # mixed depths, widths, activations and dropout rates
    assert len({n.dims for n in nets}) > 5 and any(max(n.dropouts) > 0 for n in nets)
    config = TrainConfig(batch_size=32)
    kwargs = {"epochs": 2, "config": config, "evals": {"val": (xv, yv)}}
    together = train_dense(nets, seeds, (x, y), **kwargs)
    for i in (0, 4, 9):
        alone = train_dense([nets[i]], [seeds[i]], (x, y), **kwargs)[0]
        assert equal_weights(alone.weights, together[i].weights)
        assert alone.history == together[i].history
        assert alone.evaluations == together[i].evaluations
    subset = [7, 2, 9, 0]  # another batch, another order
    part = train_dense([nets[i] for i in subset], [seeds[i] for i in subset], (x, y), **kwargs)
    for run, i in zip(part, subset):
        assert equal_weights(run.weights, together[i].weights)
        assert run.evaluations == together[i].evaluations


def test_a_network_gets_the_same_bits_on_one_and_two_threads(data) -> None:
    x, y, xv, yv = data
    nets, seeds = population(6)
    kwargs = {"epochs": 1, "config": TrainConfig(batch_size=32), "evals": {"val": (xv, yv)}}
    one = train_dense(nets, seeds, (x, y), threads=1, **kwargs)
    two = train_dense(nets, seeds, (x, y), threads=2, **kwargs)
    for a, b in zip(one, two):
        assert equal_weights(a.weights, b.weights) and a.evaluations == b.evaluations


def test_a_diverging_network_fails_alone_and_leaves_the_others_untouched(data) -> None:
    x, y, _, _ = data
    nets, seeds = population(3)
    w, b = nets[1].init[0]
    broken = DenseNet(
        nets[1].dims,
        nets[1].activations,
        nets[1].dropouts,
        ((w * float("nan"), b), *nets[1].init[1:]),
    )
    config = TrainConfig(batch_size=50)
    runs = train_dense([nets[0], broken, nets[2]], seeds, (x, y), epochs=2, config=config)
    assert runs[1].error == "loss became nan in epoch 1"
    assert runs[0].error is None and runs[2].error is None
    clean = train_dense([nets[0], nets[2]], [seeds[0], seeds[2]], (x, y), epochs=2, config=config)
    assert equal_weights(clean[0].weights, runs[0].weights)
    assert equal_weights(clean[1].weights, runs[2].weights)


def test_masked_weights_stay_zero(data) -> None:
    x, y, _, _ = data
    net = dense_net(mlp((16,), ("relu",)), 0)
    gen = torch.Generator().manual_seed(1)
    masks = tuple((torch.rand(w.shape, generator=gen) > 0.5).float() for w, _ in net.init)
    masked = DenseNet(net.dims, net.activations, net.dropouts, net.init, masks)
    run = train_dense([masked], [0], (x, y), epochs=2, config=TrainConfig(batch_size=25))[0]
    for (w, _), mask in zip(run.weights, masks):
        assert bool((w[mask == 0] == 0).all())
        assert bool((w[mask == 1] != 0).all())


def test_trained_weights_load_into_the_architectures_module(data) -> None:
    x, y, xv, yv = data
    architecture = mlp((32,), ("relu",), dropout=0.1)
    run = train_dense(
        [dense_net(architecture, 3)],
        [3],
        (x, y),
        epochs=3,
        config=TrainConfig(),
        evals={"val": (xv, yv)},
    )[0]
    model = load_weights(build_model(architecture), run.weights).eval()
    with torch.no_grad():
        logits = model(xv)
    accuracy = float((logits.argmax(1) == yv).float().mean())
    loss = float(torch.nn.functional.cross_entropy(logits, yv))
    assert math.isclose(accuracy, run.evaluations[-1]["val_accuracy"], abs_tol=1e-6)
    assert math.isclose(loss, run.evaluations[-1]["val_loss"], rel_tol=1e-5)


def test_bad_input_is_a_value_error() -> None:
    nets, seeds = population(2)
    with pytest.raises(ValueError, match="one seed per net"):
        train_dense(
            nets,
            seeds[:1],
            (torch.zeros(4, 64), torch.zeros(4).long()),
            epochs=1,
            config=TrainConfig(),
        )
