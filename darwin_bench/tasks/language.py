"""Language modelling tasks: CharLM (bits per character) and WordLM (perplexity).

Training is truncated backpropagation through time: the training stream is cut into
``batch_size`` parallel rows (:func:`darwin_bench.data.text.lm_batches`), each row into windows
of ``seq_len`` tokens, and the recurrent state is carried from one window to the next (cut from
the graph). One **epoch** is one pass over the task's training stream: the first
``train_tokens`` tokens of the corpus's train split (a fixed slice, part of the task's config).
Nothing is shuffled, so a run depends on the seed only through weight initialization and
dropout, and is bit-identical for the same seed on the same machine.

The search sees the validation split (``bpc`` or ``perplexity``); the test split is reported
separately, in the test metrics (``test_bpc`` / ``test_perplexity``). Both are evaluated in
full, with the state carried across windows.

Score (higher is better, see :meth:`LanguageModelTask.score`): the geometric-mean probability the
model gives the correct next token on the validation split, ``exp(-mean NLL)``: ``2 ** -bpc``
for CharLM and ``1 / perplexity`` for WordLM, in ``(0, 1]``. A failed evaluation scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from darwin_bench.architecture import Architecture
from darwin_bench.data.text import Corpus, load_corpus
from darwin_bench.data.tokens import lm_batches
from darwin_bench.metrics.language import bits_per_character, perplexity
from darwin_bench.models import build_model
from darwin_bench.models.recurrent import RecurrentLM
from darwin_bench.tasks.base import Task, TaskResult, TrainingDiverged
from darwin_bench.validation import check_positive_float, check_positive_int

__all__ = ["CharLMTask", "LanguageModelTask", "WordLMTask"]


class LanguageModelTask(Task):
    """Next-token prediction on a corpus; subclasses fix the token level and the metric.

    Args:
        corpus: a corpus name of :func:`darwin_bench.data.text.load_corpus` (``"pydoc"`` is
            offline; the others download once into the cache).
        cache: download cache directory (default: the library's cache).
        seq_len: BPTT window length; also the length of :meth:`example_input`, i.e. the
            sequence over which FLOPs and latency are costed.
        batch_size: parallel rows during training and evaluation.
        train_tokens: tokens of the train split used as the training stream (``None``: all).
        epochs: default passes over the training stream (the fidelity).
        lr: Adam learning rate.
        grad_clip: global gradient-norm clip (0 disables).
        threads: torch threads while training (pinned for determinism).
        max_vocab: WordLM only: vocabulary size including ``<unk>`` and ``<eos>`` (``None``:
            every train word).
    """

    level: ClassVar[str] = "char"
    fidelities: dict[str, int]

    def __init__(
        self,
        *,
        corpus: str = "pydoc",
        cache: str | Path | None = None,
        seq_len: int = 32,
        batch_size: int = 32,
        train_tokens: int | None = 32768,
        epochs: int = 2,
        lr: float = 2e-2,
        grad_clip: float = 1.0,
        threads: int = 1,
        max_vocab: int | None = None,
    ) -> None:
        self.seq_len = check_positive_int("seq_len", seq_len)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.lr = check_positive_float("lr", lr)
        if isinstance(grad_clip, bool) or not isinstance(grad_clip, (int, float)) or grad_clip < 0:
            raise ValueError(f"grad_clip must be a number >= 0; got {grad_clip!r}")
        self.grad_clip = float(grad_clip)
        self.threads = check_positive_int("threads", threads)
        self.fidelities = {"epochs": check_positive_int("epochs", epochs)}
        if max_vocab is not None and check_positive_int("max_vocab", max_vocab) < 2:
            raise ValueError(f"max_vocab must be None or an integer >= 2; got {max_vocab!r}")
        data = load_corpus(corpus, cache=Path(cache) if cache is not None else None)
        self.corpus_name = data.name
        self._data_hash = data.sha256
        train, valid, test, self.vocab_size = self._encode(data, max_vocab)
        if train_tokens is not None:
            train = train[: check_positive_int("train_tokens", train_tokens)]
        self.train_tokens = int(train.shape[0])
        if self.train_tokens < self.batch_size * (self.seq_len + 1):
            raise ValueError(
                f"train_tokens must be at least batch_size * (seq_len + 1) = "
                f"{self.batch_size * (self.seq_len + 1)} (one window per row); "
                f"got {self.train_tokens}"
            )
        self.max_vocab = max_vocab
        self.train_x, self.train_y = (
            torch.from_numpy(a) for a in lm_batches(train, self.batch_size, self.seq_len)
        )
        self.valid_x, self.valid_y = (
            torch.from_numpy(a) for a in lm_batches(valid, self.batch_size, self.seq_len)
        )
        self.test_x, self.test_y = (
            torch.from_numpy(a) for a in lm_batches(test, self.batch_size, self.seq_len)
        )
        self._example = torch.from_numpy(valid[: self.seq_len].copy()).view(1, -1)

    # ------------------------------------------------------------ subclass hooks
    def _encode(
        self, data: Corpus, max_vocab: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Token ids of (train, valid, test) and the vocabulary size."""
        raise NotImplementedError

    def _metrics(self, nll: float) -> float:
        """The reported metric of a mean NLL in nats."""
        raise NotImplementedError

    # ------------------------------------------------------------------ Task API
    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.seq_len,)

    @property
    def num_outputs(self) -> int:
        return self.vocab_size

    @property
    def data_hash(self) -> str:
        """The corpus's content hash: SHA-256 of its train, valid and test text."""
        return self._data_hash

    def config(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus_name,
            "level": self.level,
            "vocab_size": self.vocab_size,
            "max_vocab": self.max_vocab,
            "seq_len": self.seq_len,
            "batch_size": self.batch_size,
            "train_tokens": self.train_tokens,
            "optimizer": "adam",
            "lr": self.lr,
            "grad_clip": self.grad_clip,
            "threads": self.threads,
        }

    def training_samples(self, fidelity: Mapping[str, int]) -> int:
        # One sample is one window of seq_len tokens (a row of example_input).
        windows = int(self.train_x.shape[0] * self.train_x.shape[1])
        return self.check_fidelity(fidelity)["epochs"] * windows

    def build(self, architecture: Architecture) -> nn.Module:
        if architecture.space != "rnn":
            raise ValueError(
                f"architecture.space must be 'rnn' for task {self.name!r}; "
                f"got {architecture.space!r}"
            )
        if architecture.num_outputs != self.vocab_size:
            raise ValueError(
                f"architecture.num_outputs must be the vocabulary size {self.vocab_size}; "
                f"got {architecture.num_outputs}"
            )
        return build_model(architecture)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """``batch_size`` copies of the first ``seq_len`` validation tokens: ``(batch, seq_len)``.

        FLOPs and latency are costed on this input, so they cover ``seq_len`` time steps.
        """
        return self._example.expand(batch_size, -1).clone()

    def score(self, metrics: Mapping[str, float]) -> float:
        """``exp(-mean validation NLL)``: ``2 ** -bpc`` or ``1 / perplexity``, in (0, 1]."""
        return math.exp(-float(metrics["val_loss"]))

    @property
    def score_range(self) -> tuple[float, float]:
        return (0.0, 1.0)

    @property
    def worst_score(self) -> float:
        return 0.0

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        model = self.build(architecture)
        assert isinstance(model, RecurrentLM)
        train_loss = self._train(model, fidelity["epochs"])
        val_loss = self.evaluate_nll(model, self.valid_x, self.valid_y)
        test_loss = self.evaluate_nll(model, self.test_x, self.test_y)
        if not math.isfinite(val_loss):
            raise TrainingDiverged(f"validation loss is {val_loss}")
        metrics = {
            self.metric: self._metrics(val_loss),
            "val_loss": val_loss,
            "train_loss": train_loss,
        }
        test_metrics = {f"test_{self.metric}": self._metrics(test_loss), "test_loss": test_loss}
        details = {
            "corpus": self.corpus_name,
            "corpus_sha256": self._data_hash,
            "train_tokens": self.train_tokens,
        }
        return TaskResult(metrics, model, details=details, test_metrics=test_metrics)

    def _train(self, model: RecurrentLM, epochs: int) -> float:
        """Truncated BPTT with Adam; returns the mean training NLL of the last epoch."""
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        model.train()
        mean = math.nan
        for epoch in range(epochs):
            state = None
            total = 0.0
            for x, y in zip(self.train_x, self.train_y):
                logits, state = model.run(x, state)
                state = state.detach()
                loss = F.cross_entropy(logits.reshape(-1, self.vocab_size), y.reshape(-1))
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingDiverged(f"loss became {value} in epoch {epoch + 1}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                optimizer.step()
                total += value
            mean = total / len(self.train_x)
        return mean

    @torch.inference_mode()
    def evaluate_nll(self, model: RecurrentLM, xs: torch.Tensor, ys: torch.Tensor) -> float:
        """Mean NLL in nats over every target of ``(xs, ys)``, state carried across windows."""
        model.eval()
        state = None
        total = 0.0
        for x, y in zip(xs, ys):
            logits, state = model.run(x, state)
            total += float(
                F.cross_entropy(logits.reshape(-1, self.vocab_size), y.reshape(-1), reduction="sum")
            )
        return total / ys.numel()


class CharLMTask(LanguageModelTask):
    """Character-level language modelling; the search sees validation bits per character.

    Vocabulary: the train split's characters plus ``<unk>`` (:class:`CharVocab`).
    """

    name = "charlm"
    metric: ClassVar[str] = "bpc"
    higher_is_better: ClassVar[bool] = False
    level: ClassVar[str] = "char"
    #: About the costs of the reference network of docs/tasks.md (one LSTM layer of 128);
    #: ``latency_ms``: the median ONNX Runtime latency of random networks (perf latency-targets).
    default_targets: dict[str, float] = {
        "flops": 6e6,
        "params": 1e5,
        "synapses": 1e5,
        "latency_ms": 1.0,
    }

    def __init__(
        self, *, batch_size: int = 64, train_tokens: int | None = 65536, **kwargs: Any
    ) -> None:
        if kwargs.get("max_vocab") is not None:
            raise ValueError("max_vocab applies to wordlm only; charlm uses every train character")
        super().__init__(batch_size=batch_size, train_tokens=train_tokens, **kwargs)

    def _encode(
        self, data: Corpus, max_vocab: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        vocab = data.char_vocab()
        ids = [data.char_ids(split, vocab) for split in ("train", "valid", "test")]
        return ids[0], ids[1], ids[2], len(vocab)

    def _metrics(self, nll: float) -> float:
        return bits_per_character(nll)


class WordLMTask(LanguageModelTask):
    """Word-level language modelling; the search sees validation perplexity.

    Vocabulary: the train split's words (at most ``max_vocab`` including ``<unk>`` and
    ``<eos>``, most frequent first); other words become ``<unk>``.
    """

    name = "wordlm"
    metric: ClassVar[str] = "perplexity"
    higher_is_better: ClassVar[bool] = False
    level: ClassVar[str] = "word"
    #: About the costs of the reference network of docs/tasks.md (one LSTM layer of 128);
    #: ``latency_ms``: the median ONNX Runtime latency of random networks (perf latency-targets).
    default_targets: dict[str, float] = {
        "flops": 2e7,
        "params": 4e5,
        "synapses": 4e5,
        "latency_ms": 1.1,
    }

    def __init__(
        self,
        *,
        batch_size: int = 32,
        train_tokens: int | None = 16384,
        max_vocab: int | None = 2000,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            batch_size=batch_size, train_tokens=train_tokens, max_vocab=max_vocab, **kwargs
        )

    def _encode(
        self, data: Corpus, max_vocab: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        vocab = data.word_vocab(max_vocab)
        ids = [data.word_ids(split, vocab) for split in ("train", "valid", "test")]
        return ids[0], ids[1], ids[2], len(vocab)

    def _metrics(self, nll: float) -> float:
        return perplexity(nll)
