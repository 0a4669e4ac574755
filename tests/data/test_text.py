"""Tests for darwin_bench.data.text: normalization, vocabularies, batches and corpus loaders."""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest

from darwin_bench.data import text
from darwin_bench.data.download import (
    DataIntegrityError,
    DatasetUnavailableError,
    Source,
    parse_checksum,
)
from darwin_bench.data.text import (
    EOS,
    UNK,
    CharVocab,
    Corpus,
    WordVocab,
    lm_batches,
    load_corpus,
    normalize_text,
    split_contiguous,
    tokenize_words,
)
from darwin_bench.hashing import data_hash


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DARWIN_BENCH_OFFLINE", raising=False)
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(tmp_path / "default-cache"))


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- normalization and splitting -------------------------------------------------------------


def test_normalize_text_rules() -> None:
    raw = "\n  ﬁrst\tline   \r\nsecond\rthird \n\n\n\n\nfourth ① \n\n"
    assert normalize_text(raw) == "ﬁrst    line\nsecond\nthird\n\nfourth 1\n".replace("ﬁ", "fi")
    assert normalize_text("") == ""
    assert normalize_text(" \n\t\n") == ""
    once = normalize_text(raw)
    assert normalize_text(once) == once  # idempotent


def test_split_contiguous_cuts_after_newlines() -> None:
    body = "".join(f"line {i:03d}\n" for i in range(200))
    train, valid, test = split_contiguous(body)
    assert train + valid + test == body
    for part in (train, valid, test):
        assert part.endswith("\n") and part
    assert 0.89 < len(train) / len(body) < 0.91
    assert 0.04 < len(valid) / len(body) < 0.06
    with pytest.raises(ValueError, match="fractions"):
        split_contiguous(body, (0.9, 0.2))
    with pytest.raises(ValueError, match="fractions"):
        split_contiguous(body, (0.0, 0.5))


# --- the offline pydoc corpus ----------------------------------------------------------------


def test_pydoc_corpus_is_deterministic_and_normalized() -> None:
    corpus = load_corpus()
    assert corpus.name == "pydoc"
    assert corpus == load_corpus("pydoc")
    full = corpus.train + corpus.valid + corpus.test
    assert corpus.sha256 == data_hash(corpus.train, corpus.valid, corpus.test)
    assert len(full) > 100_000
    assert 0.89 < len(corpus.train) / len(full) < 0.91
    assert 0.04 < len(corpus.valid) / len(full) < 0.06
    assert corpus.train.endswith("\n") and corpus.valid.endswith("\n")
    assert "\t" not in full and "\r" not in full and "\n\n\n" not in full
    assert " \n" not in full
    assert unicodedata.normalize("NFKC", full) == full
    assert "assert" in corpus.train  # the first topic in sorted order is "assert"
    assert corpus.tokenization == "regex"
    assert len(repr(corpus)) < 300  # the texts are left out of the repr


def test_pydoc_corpus_matches_its_source() -> None:
    from pydoc_data.topics import topics

    expected = normalize_text("\n\n".join(topics[key] for key in sorted(topics)))
    corpus = load_corpus("pydoc")
    assert corpus.train + corpus.valid + corpus.test == expected


def test_corpus_checks_its_hash_and_split_names() -> None:
    corpus = Corpus.from_splits("toy", "ab\n", "c\n", "d\n")
    assert corpus.split("valid") == "c\n"
    with pytest.raises(ValueError, match="split"):
        corpus.split("validation")
    with pytest.raises(ValueError, match="sha256"):
        Corpus("toy", "ab\n", "c\n", "d\n", "0" * 64)
    with pytest.raises(ValueError, match="tokenization"):
        Corpus.from_splits("toy", "a", "b", "c", tokenization="bpe")  # type: ignore[arg-type]
    assert corpus.stats() == {"train": 3, "valid": 2, "test": 2}


def test_unknown_corpus_lists_known_names() -> None:
    with pytest.raises(ValueError) as info:
        load_corpus("enwik8")
    for name in ("pydoc", "tiny-shakespeare", "ptb", "wikitext-2"):
        assert name in str(info.value)
    assert text.corpus_names() == ("pydoc", "tiny-shakespeare", "ptb", "wikitext-2")


# --- vocabularies ----------------------------------------------------------------------------


def test_char_vocab_roundtrip_and_unknowns() -> None:
    vocab = CharVocab.from_text("hello world\n")
    assert vocab.itos == (UNK, "\n", " ", "d", "e", "h", "l", "o", "r", "w")
    assert len(vocab) == 10
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [5, 4, 6, 6, 7]
    assert vocab.decode(ids) == "hello"
    unseen = vocab.encode("hex€😀")
    assert unseen.tolist() == [5, 4, 0, 0, 0]
    assert vocab.decode(unseen) == "he\ufffd\ufffd\ufffd"
    assert vocab.encode("").shape == (0,)
    with pytest.raises(ValueError, match="ids"):
        vocab.decode([10])


def test_char_vocab_on_pydoc_roundtrips_train() -> None:
    corpus = load_corpus()
    vocab = corpus.char_vocab()
    assert vocab.decode(corpus.char_ids("train", vocab)) == corpus.train
    assert vocab == corpus.char_vocab()  # deterministic


def test_tokenize_words_regex_and_whitespace() -> None:
    assert tokenize_words("Hello, World!! ***\n\nIt's x...y") == [
        "hello",
        ",",
        "world",
        "!!",
        "***",
        EOS,
        EOS,
        "it",
        "'",
        "s",
        "x",
        "...",
        "y",
    ]
    assert tokenize_words(" The <unk> said N\n Next line \n", "whitespace") == [
        "The",
        "<unk>",
        "said",
        "N",
        EOS,
        "Next",
        "line",
        EOS,
    ]
    with pytest.raises(ValueError, match="tokenization"):
        tokenize_words("x", "chars")  # type: ignore[arg-type]


def test_word_vocab_frequency_ties_and_max_size() -> None:
    tokens = ["b", "a", "c", "a", "b", "d", UNK, EOS, UNK, UNK, UNK]
    full = WordVocab.from_tokens(tokens)
    assert full.itos == (UNK, EOS, "a", "b", "c", "d")  # a,b twice (tie: a first), then c, d
    small = WordVocab.from_tokens(tokens, max_size=4)
    assert small.itos == (UNK, EOS, "a", "b")
    ids = small.encode(["a", "c", EOS, "zzz", UNK])
    assert ids.dtype == np.int64 and ids.tolist() == [2, 0, 1, 0, 0]
    assert small.decode(ids) == ["a", UNK, EOS, UNK, UNK]
    assert "a" in small and "c" not in small
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="max_size"):
            WordVocab.from_tokens(tokens, max_size=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ids"):
        small.decode([4])


def test_word_vocab_on_pydoc() -> None:
    corpus = load_corpus()
    vocab = corpus.word_vocab(max_size=500)
    assert len(vocab) == 500
    assert vocab.itos[:2] == (UNK, EOS)
    ids = corpus.word_ids("valid", vocab)
    assert ids.min() >= 0 and ids.max() < 500
    assert (ids == vocab.unk_id).any() and (ids == vocab.eos_id).any()
    assert corpus.word_vocab().itos == corpus.word_vocab().itos


# --- batches ---------------------------------------------------------------------------------


def test_lm_batches_shapes_and_continuity() -> None:
    ids = np.arange(103)
    x, y = lm_batches(ids, batch_size=4, seq_len=5)
    # 103 // 4 = 25 tokens per row, (25 - 1) // 5 = 4 batches; 3 trailing tokens dropped
    assert x.shape == y.shape == (4, 4, 5)
    assert x.dtype == np.int64 and y.dtype == np.int64
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(x[0, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(x[1, 0], [5, 6, 7, 8, 9])  # row 0 continues
    np.testing.assert_array_equal(x[0, 1], [25, 26, 27, 28, 29])  # row 1 starts at 25
    x2, _ = lm_batches(list(range(103)), 4, 5)
    np.testing.assert_array_equal(x, x2)


@pytest.mark.parametrize(
    ("ids", "batch_size", "seq_len", "field"),
    [
        (np.arange(100), 0, 5, "batch_size"),
        (np.arange(100), 2, 0, "seq_len"),
        (np.arange(100), 2.0, 5, "batch_size"),
        (np.arange(100).reshape(10, 10), 2, 5, "1-D"),
        (np.arange(11), 2, 5, "too few"),
    ],
)
def test_lm_batches_bad_arguments(
    ids: np.ndarray, batch_size: int, seq_len: int, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        lm_batches(ids, batch_size, seq_len)


def test_lm_batches_minimum_length() -> None:
    x, y = lm_batches(np.arange(12), 2, 5)
    assert x.shape == (1, 2, 5)
    np.testing.assert_array_equal(y[0, 1], [7, 8, 9, 10, 11])


# --- downloadable corpora, on small generated files ------------------------------------------

PTB_SPLITS = {
    "train": " the company said <unk> N years ago\n the market fell\n the company rose\n",
    "valid": " the market said\n",
    "test": " a new company <unk>\n",
}


def write_ptb(directory: Path) -> tuple[Source, ...]:
    directory.mkdir(parents=True, exist_ok=True)
    sources = []
    for split, body in PTB_SPLITS.items():
        path = directory / f"ptb.{split}.txt"
        path.write_bytes(body.encode())
        sources.append(Source(path.as_uri(), md5(body.encode()), f"ptb.{split}.txt"))
    return tuple(sources)


def test_ptb_loader_parses_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(text.SOURCES, "ptb", write_ptb(tmp_path / "served"))
    cache = tmp_path / "cache"
    corpus = load_corpus("ptb", cache=cache)
    assert (corpus.train, corpus.valid, corpus.test) == tuple(PTB_SPLITS.values())
    assert corpus.tokenization == "whitespace"
    assert sorted(p.name for p in cache.iterdir()) == [
        "ptb.test.txt",
        "ptb.train.txt",
        "ptb.valid.txt",
    ]
    vocab = corpus.word_vocab()
    assert vocab.itos[:4] == (UNK, EOS, "the", "company")
    assert corpus.words("test") == ["a", "new", "company", UNK, EOS]
    assert corpus.word_ids("test", vocab).tolist() == [0, 0, 3, 0, 1]
    # served files gone: the cache alone now serves the corpus, also offline
    for path in (tmp_path / "served").iterdir():
        path.unlink()
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    assert load_corpus("ptb", cache=cache) == corpus


def test_ptb_corrupted_cache_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(text.SOURCES, "ptb", write_ptb(tmp_path / "served"))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "ptb.valid.txt").write_text(" the market said something else\n")
    with pytest.raises(DataIntegrityError, match=r"ptb\.valid\.txt"):
        load_corpus("ptb", cache=cache)


def test_ptb_offline_error_names_url_and_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError) as info:
        load_corpus("ptb")  # the published sources, with nothing cached
    message = str(info.value)
    assert text.SOURCES["ptb"][0].url in message
    assert str(tmp_path / "default-cache" / "ptb.train.txt") in message


def make_wikitext_zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


WIKI_SPLITS = {
    "train": " \n = Valkyria Chronicles = \n \n The game began development in 2010 . \n",
    "valid": " \n = Homarus = \n \n It is a <unk> @-@ like lobster . \n",
    "test": " \n = Robert Boulter = \n \n Robert is an English actor . \n",
}
WIKI_MEMBERS = {f"wikitext-2/wiki.{s}.tokens": body for s, body in WIKI_SPLITS.items()}


def test_wikitext2_loader_from_prepopulated_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = make_wikitext_zip({"wikitext-2/": "", **WIKI_MEMBERS})
    monkeypatch.setitem(
        text.SOURCES,
        "wikitext-2",
        (Source("https://example.invalid/wikitext-2-v1.zip", md5(data), "wikitext-2-v1.zip"),),
    )
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "wikitext-2-v1.zip").write_bytes(data)
    corpus = load_corpus("wikitext-2", cache=cache)
    assert (corpus.train, corpus.valid, corpus.test) == tuple(WIKI_SPLITS.values())
    assert corpus.words("valid")[:6] == [EOS, "=", "Homarus", "=", EOS, EOS]
    assert "<unk>" in corpus.words("valid")
    vocab = corpus.word_vocab()
    assert "Valkyria" in vocab and "valkyria" not in vocab  # case is kept


def test_wikitext2_truncated_download_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = make_wikitext_zip(WIKI_MEMBERS)
    served = tmp_path / "served.zip"
    served.write_bytes(data[: len(data) // 2])  # truncated on the "server"
    monkeypatch.setitem(
        text.SOURCES,
        "wikitext-2",
        (Source(served.as_uri(), sha256(data), "wikitext-2-v1.zip"),),
    )
    cache = tmp_path / "cache"
    with pytest.raises(DataIntegrityError, match="does not match"):
        load_corpus("wikitext-2", cache=cache)
    assert not (cache / "wikitext-2-v1.zip").exists()


def test_wikitext2_bad_archives_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # checksums that match but contents that are not the expected archive
    for index, (data, pattern) in enumerate(
        [
            (make_wikitext_zip({"wikitext-2/wiki.train.tokens": "x \n"}), "lacks"),
            (b"not a zip at all", "zip"),
        ]
    ):
        cache = tmp_path / f"cache{index}"
        cache.mkdir()
        (cache / "wikitext-2-v1.zip").write_bytes(data)
        monkeypatch.setitem(
            text.SOURCES,
            "wikitext-2",
            (Source("https://example.invalid/w.zip", md5(data), "wikitext-2-v1.zip"),),
        )
        with pytest.raises(DataIntegrityError, match=pattern):
            load_corpus("wikitext-2", cache=cache)


def test_tiny_shakespeare_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = "".join(
        f"First Citizen:\r\nBefore we proceed any further, hear me speak {i}.\r\n\r\n"
        for i in range(40)
    ).encode()
    served = tmp_path / "input.txt"
    served.write_bytes(body)
    monkeypatch.setitem(
        text.SOURCES,
        "tiny-shakespeare",
        (Source(served.as_uri(), sha256(body), "tinyshakespeare_input.txt"),),
    )
    corpus = load_corpus("tiny-shakespeare", cache=tmp_path / "cache")
    full = corpus.train + corpus.valid + corpus.test
    assert full == body.decode().replace("\r\n", "\n")
    assert corpus.valid and corpus.test and corpus.train.endswith("\n")
    assert corpus.words("train")[:4] == ["first", "citizen", ":", EOS]
    assert (tmp_path / "cache" / "tinyshakespeare_input.txt").read_bytes() == body


def test_non_utf8_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = b"caf\xe9\n"
    served = tmp_path / "input.txt"
    served.write_bytes(body)
    monkeypatch.setitem(
        text.SOURCES,
        "tiny-shakespeare",
        (Source(served.as_uri(), sha256(body), "tinyshakespeare_input.txt"),),
    )
    with pytest.raises(DataIntegrityError, match="UTF-8"):
        load_corpus("tiny-shakespeare", cache=tmp_path / "cache")


def test_published_sources_are_well_formed() -> None:
    names = set()
    for corpus, sources in text.SOURCES.items():
        assert corpus in text.corpus_names()
        for source in sources:
            parse_checksum(source.checksum)
            assert source.url.startswith("https://")
            assert source.reference
            names.add(source.filename)
    assert len(names) == 5  # 1 + 3 + 1 distinct cache file names
    assert len(text.SOURCES["ptb"]) == 3
