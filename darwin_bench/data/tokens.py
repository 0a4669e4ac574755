"""Tokens for language modelling: word tokenization, vocabularies and BPTT batches.

Corpora (:mod:`darwin_bench.data.text`) are text; this module turns text into ids:
:func:`tokenize_words` (word level, every newline an ``<eos>``), :class:`CharVocab` and
:class:`WordVocab` (id 0 is ``<unk>``), and :func:`lm_batches` (a token stream cut into
parallel rows and windows for truncated backpropagation through time).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "EOS",
    "UNK",
    "UNK_CHAR",
    "CharVocab",
    "Tokenization",
    "WordVocab",
    "lm_batches",
    "tokenize_words",
]

UNK = "<unk>"
EOS = "<eos>"
#: Character that :meth:`CharVocab.decode` writes for the ``<unk>`` id.
UNK_CHAR = "\ufffd"

Tokenization = Literal["regex", "whitespace"]
TOKENIZATIONS = ("regex", "whitespace")
_REGEX_TOKEN = re.compile(r"\w+|([^\w\s])\1*|\n")
_WHITESPACE_TOKEN = re.compile(r"[^\s]+|\n")


def tokenize_words(text: str, tokenization: Tokenization = "regex") -> list[str]:
    """Split text into word-level tokens; every newline becomes ``<eos>``.

    Args:
        text: Text to tokenize.
        tokenization: ``"regex"``: lowercase, then tokens are matches of ``\\w+|([^\\w\\s])\\1*``
            (runs of Unicode word characters, or runs of one repeated punctuation/symbol
            character, so ``"..."`` and ``"*****"`` are single tokens).
            ``"whitespace"``: for already tokenized corpora; tokens are maximal runs of
            non-whitespace characters, case kept.

    Returns:
        The tokens, with ``"<eos>"`` for each ``"\\n"``.

    Raises:
        ValueError: If ``tokenization`` is not ``"regex"`` or ``"whitespace"``.
    """
    if tokenization == "regex":
        tokens = [match.group(0) for match in _REGEX_TOKEN.finditer(text.lower())]
    elif tokenization == "whitespace":
        tokens = _WHITESPACE_TOKEN.findall(text)
    else:
        raise ValueError(f"tokenization must be one of {TOKENIZATIONS}, got {tokenization!r}")
    return [EOS if token == "\n" else token for token in tokens]


@dataclass(frozen=True)
class CharVocab:
    """Character vocabulary: id 0 is ``<unk>``, then the known characters in code-point order.

    Attributes:
        chars: The known characters (single-character strings), sorted by code point.
    """

    chars: tuple[str, ...]
    _table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if any(not isinstance(c, str) or len(c) != 1 for c in self.chars):
            raise ValueError("chars must be single-character strings")
        if list(self.chars) != sorted(set(self.chars)):
            raise ValueError("chars must be unique and sorted by code point")
        size = max((ord(c) for c in self.chars), default=-1) + 1
        table = np.zeros(size, dtype=np.int64)  # 0 = <unk>
        for i, c in enumerate(self.chars):
            table[ord(c)] = i + 1
        object.__setattr__(self, "_table", table)

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """Build the vocabulary of the characters of ``text`` (normally the train split)."""
        return cls(tuple(sorted(set(text))))

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>`` (always 0)."""
        return 0

    @property
    def itos(self) -> tuple[str, ...]:
        """Token of each id: ``("<unk>", *chars)``."""
        return (UNK, *self.chars)

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        """Map each character to its id (unknown characters to 0).

        Returns:
            A 1-D ``int64`` array of ``len(text)`` ids.
        """
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(
            np.int64
        )
        ids = np.zeros(codes.shape, dtype=np.int64)
        known = codes < self._table.shape[0]
        ids[known] = self._table[codes[known]]
        return ids

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Map ids back to text; the ``<unk>`` id becomes U+FFFD.

        Raises:
            ValueError: If an id is outside ``[0, len(self))``.
        """
        lookup = (UNK_CHAR, *self.chars)
        out = []
        for i in np.asarray(ids, dtype=np.int64).ravel().tolist():
            if not 0 <= i < len(lookup):
                raise ValueError(f"ids must be in [0, {len(lookup)}), got {i}")
            out.append(lookup[i])
        return "".join(out)


@dataclass(frozen=True)
class WordVocab:
    """Word vocabulary: id 0 is ``<unk>``, id 1 is ``<eos>``, then words by frequency.

    Attributes:
        words: The known words after the two specials, most frequent first, ties broken
            alphabetically (by code point).
    """

    words: tuple[str, ...]
    _stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.words)) != len(self.words) or {UNK, EOS} & set(self.words):
            raise ValueError(f"words must be unique and must not contain {UNK!r} or {EOS!r}")
        stoi = {UNK: 0, EOS: 1}
        stoi.update((w, i + 2) for i, w in enumerate(self.words))
        object.__setattr__(self, "_stoi", stoi)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], max_size: int | None = None) -> WordVocab:
        """Build a vocabulary from tokens (normally the train split's).

        Args:
            tokens: Tokens; ``<unk>`` and ``<eos>`` occurrences are not counted as words.
            max_size: Total vocabulary size including ``<unk>`` and ``<eos>``; the most frequent
                words are kept (ties broken alphabetically). ``None`` keeps every word.

        Raises:
            ValueError: If ``max_size`` is not ``None`` or an int >= 2.
        """
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 2
        ):
            raise ValueError(f"max_size must be None or an int >= 2, got {max_size!r}")
        counts = Counter(tokens)
        counts.pop(UNK, None)
        counts.pop(EOS, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if max_size is not None:
            ranked = ranked[: max_size - 2]
        return cls(tuple(word for word, _ in ranked))

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>`` (always 0)."""
        return 0

    @property
    def eos_id(self) -> int:
        """Id of ``<eos>`` (always 1)."""
        return 1

    @property
    def itos(self) -> tuple[str, ...]:
        """Token of each id: ``("<unk>", "<eos>", *words)``."""
        return (UNK, EOS, *self.words)

    def __len__(self) -> int:
        return len(self.words) + 2

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Map tokens to ids (unknown tokens to ``<unk>``); returns a 1-D ``int64`` array."""
        stoi = self._stoi
        return np.fromiter((stoi.get(t, 0) for t in tokens), dtype=np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Map ids back to tokens.

        Raises:
            ValueError: If an id is outside ``[0, len(self))``.
        """
        itos = self.itos
        out = []
        for i in np.asarray(ids, dtype=np.int64).ravel().tolist():
            if not 0 <= i < len(itos):
                raise ValueError(f"ids must be in [0, {len(itos)}), got {i}")
            out.append(itos[i])
        return out


def lm_batches(
    ids: np.ndarray | Sequence[int], batch_size: int, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a token stream into language-modelling batches (deterministic, no shuffling).

    The stream is cut into ``batch_size`` contiguous rows of equal length (tokens that do not
    fit are dropped from the end), and each row into windows of ``seq_len``. Row ``b`` of batch
    ``k + 1`` continues row ``b`` of batch ``k``, so a recurrent state can be carried over.
    Targets are the inputs shifted by one token. Windows that would be incomplete are dropped,
    so every batch has the same shape.

    Args:
        ids: 1-D sequence of token ids.
        batch_size: Number of parallel streams (rows), >= 1.
        seq_len: Tokens per window (time steps), >= 1.

    Returns:
        ``(inputs, targets)``, both ``int64`` arrays of shape
        ``(num_batches, batch_size, seq_len)`` (batch-first within each batch), with
        ``num_batches = (len(ids) // batch_size - 1) // seq_len``.

    Raises:
        ValueError: On non-positive sizes, a non-1-D ``ids``, or a stream too short for one
            batch.
    """
    for label, value in (("batch_size", batch_size), ("seq_len", seq_len)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be an int >= 1, got {value!r}")
    array = np.asarray(ids, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {array.shape}")
    row_len = array.shape[0] // batch_size
    num_batches = (row_len - 1) // seq_len if row_len > 0 else 0
    if num_batches < 1:
        raise ValueError(
            f"ids has {array.shape[0]} tokens, too few for one batch of batch_size={batch_size} "
            f"and seq_len={seq_len} (needs at least {batch_size * (seq_len + 1)})"
        )
    rows = array[: row_len * batch_size].reshape(batch_size, row_len)
    span = num_batches * seq_len

    def windows(offset: int) -> np.ndarray:
        part = rows[:, offset : offset + span].reshape(batch_size, num_batches, seq_len)
        return np.ascontiguousarray(part.transpose(1, 0, 2))

    return windows(0), windows(1)
