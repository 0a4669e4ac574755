"""CharLM and WordLM: truncated-BPTT training, metrics, determinism, data hash, envs."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import darwin_bench  # noqa: F401 - registers the envs
from darwin_bench.architecture import Architecture
from darwin_bench.data import text
from darwin_bench.data.download import Source
from darwin_bench.tasks.language import CharLMTask, WordLMTask

SMALL = {"train_tokens": 2048, "batch_size": 16, "seq_len": 16}


def lm_arch(vocab: int, seq_len: int = 16, cell: str = "gru", conns: tuple = ()) -> Architecture:
    layers = (
        {"type": "embedding", "vocab": vocab, "dim": 16},
        {"type": "recurrent", "cell": cell, "units": 32},
        {"type": "dense", "units": vocab, "activation": None},
    )
    connections = tuple({"from": 0, "to": 0, "delay": d} for d in conns)
    return Architecture("rnn", (seq_len,), vocab, layers, connections, {"dropout": 0.0})


@pytest.fixture(scope="module")
def char_task() -> CharLMTask:
    return CharLMTask(**SMALL)


def test_char_task_defines_data_and_costing_input(char_task: CharLMTask) -> None:
    corpus = text.load_corpus("pydoc")
    assert char_task.data_hash == corpus.sha256
    assert char_task.spec()["data_hash"] == corpus.sha256
    assert char_task.num_outputs == len(corpus.char_vocab())
    assert char_task.input_shape == (16,)
    example = char_task.example_input(2)
    assert example.shape == (2, 16) and example.dtype == torch.int64
    assert example[0].tolist() == corpus.char_ids("valid")[:16].tolist()
    assert char_task.config()["train_tokens"] == 2048
    assert char_task.fidelities == {"epochs": 2}


def test_training_learns_and_is_deterministic(char_task: CharLMTask) -> None:
    arch = lm_arch(char_task.num_outputs, conns=(2,))
    one = char_task.fit(arch, seed=3, fidelity={"epochs": 1})
    two = char_task.fit(arch, seed=3, fidelity={"epochs": 2})
    again = char_task.fit(arch, seed=3, fidelity={"epochs": 2})
    other = char_task.fit(arch, seed=4, fidelity={"epochs": 2})
    assert two.metrics == again.metrics and two.test_metrics == again.test_metrics
    assert two.metrics != other.metrics
    uniform = math.log2(char_task.num_outputs)
    m = two.metrics
    assert set(m) == {"bpc", "val_loss", "train_loss"}
    assert set(two.test_metrics) == {"test_bpc", "test_loss"}
    assert m["bpc"] == pytest.approx(m["val_loss"] / math.log(2))
    assert m["bpc"] < one.metrics["bpc"] < uniform  # learns, and more with more epochs
    assert two.test_metrics["test_bpc"] < uniform
    assert char_task.score(m) == pytest.approx(2 ** -m["bpc"])
    assert 0 < char_task.score(m) <= 1 and char_task.worst_score == 0.0
    assert two.details["corpus_sha256"] == char_task.data_hash


def test_word_task_reports_perplexity() -> None:
    task = WordLMTask(max_vocab=300, **SMALL)
    assert task.num_outputs == 300
    result = task.fit(lm_arch(300, cell="lstm"), seed=0, fidelity={"epochs": 1})
    m = result.metrics
    assert m["perplexity"] == pytest.approx(math.exp(m["val_loss"]))
    assert 1 < m["perplexity"] < 300 and 1 < result.test_metrics["test_perplexity"] < 300
    assert task.score(m) == pytest.approx(1 / m["perplexity"])


def test_downloaded_corpus_through_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served = tmp_path / "input.txt"
    rng = np.random.default_rng(0)
    words = ["to", "be", "or", "not", "that", "is", "the", "question"]
    lines = [" ".join(rng.choice(words, size=8)) for _ in range(600)]
    body = ("\n".join(lines) + "\n").encode()
    digest = hashlib.sha256(body).hexdigest()
    served.write_bytes(body)
    source = Source(served.as_uri(), f"sha256:{digest}", "tinyshakespeare_input.txt")
    monkeypatch.setitem(text.SOURCES, "tiny-shakespeare", (source,))
    task = CharLMTask(corpus="tiny-shakespeare", cache=tmp_path / "cache", **SMALL)
    assert task.data_hash == text.load_corpus("tiny-shakespeare", cache=tmp_path / "cache").sha256
    assert task.config()["corpus"] == "tiny-shakespeare"
    result = task.fit(lm_arch(task.num_outputs), seed=0, fidelity={"epochs": 1})
    assert result.metrics["bpc"] < math.log2(task.num_outputs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"corpus": "nope"}, "name must be one of"),
        ({"seq_len": 0}, "seq_len"),
        ({"lr": -1.0}, "lr"),
        ({"grad_clip": -1.0}, "grad_clip"),
        ({"max_vocab": 100}, "max_vocab"),
        ({"train_tokens": 10}, "train_tokens must be at least"),
    ],
)
def test_bad_task_kwargs(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CharLMTask(**kwargs)


def test_bad_fidelity_and_architecture(char_task: CharLMTask) -> None:
    with pytest.raises(ValueError, match="fidelity"):
        char_task.check_fidelity({"steps": 3})
    with pytest.raises(ValueError, match="vocabulary size"):
        char_task.build(lm_arch(char_task.num_outputs + 1))


@pytest.mark.parametrize("env_id", ["darwin_bench/CharLM-RNN-v0", "darwin_bench/WordLM-RNN-v0"])
def test_env_step_reports_metric_cost_and_reward(env_id: str) -> None:
    env = gym.make(
        env_id, epochs=1, budget=2, task_kwargs={"train_tokens": 4096}, measure_latency=False
    )
    env.reset(seed=0)
    space = env.unwrapped.search_space
    action = space.sample(np.random.default_rng(0))
    _, reward, _, _, info = env.step(action)
    task = env.unwrapped.core.task
    assert info["status"] == "ok"
    assert task.metric in info["metrics"]
    assert not any(k.startswith("test_") for k in info["metrics"])
    assert info["objectives"]["score"] == pytest.approx(task.score(info["metrics"]))
    assert info["costs"]["flops"] > 0
    assert np.isfinite(reward) and reward > 0
