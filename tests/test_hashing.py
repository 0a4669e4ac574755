"""`darwin_bench.hashing`: the documented byte layout, pinned and recomputed independently."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from darwin_bench.hashing import content_hash, data_hash

ARRAY = np.arange(6, dtype=np.int16).reshape(2, 3)
TEXT = "größe\n"  # non-ASCII: 8 UTF-8 bytes


def by_hand(*chunks: bytes) -> str:
    """SHA-256 of the layout written out byte by byte (the module docstring's rules)."""
    return hashlib.sha256(b"".join(chunks)).hexdigest()


def test_array_layout_dtype_shape_little_endian_c_order() -> None:
    payload = b"".join(int(v).to_bytes(2, "little", signed=True) for v in range(6))
    expected = by_hand(b"array <i2 [2,3]\n", payload)
    assert data_hash(ARRAY) == expected
    assert data_hash(ARRAY.astype(">i2")) == expected  # byte order is normalised
    assert data_hash(np.asfortranarray(ARRAY)) == expected  # memory layout too
    assert data_hash(ARRAY.T.copy().T) == expected
    assert data_hash(ARRAY.reshape(3, 2)) != expected  # the shape is part of the content
    assert data_hash(ARRAY.astype(np.int32)) != expected  # and so is the dtype


def test_text_layout_is_length_prefixed_utf8() -> None:
    body = TEXT.encode("utf-8")
    assert len(body) == 8
    assert data_hash(TEXT) == by_hand(b"text 8\n", body)
    # Framing: the split between parts is content (moving text between splits shows).
    assert data_hash("ab", "c") != data_hash("a", "bc")
    assert data_hash("abc") != data_hash("ab", "c")


def test_json_and_mixed_parts() -> None:
    kwargs = {"b": [1, 2.5], "a": None}
    canonical = b'{"a":null,"b":[1,2.5]}'
    assert data_hash(kwargs) == by_hand(b"json %d\n" % len(canonical), canonical)
    mixed = data_hash(np.array([1, 2], dtype=np.uint8), "hi", kwargs)
    assert mixed == by_hand(b"array |u1 [2]\n\x01\x02", b"text 2\nhi", b"json 22\n", canonical)
    # The docstring's example, verbatim.
    assert data_hash(np.array([1, 2], dtype=np.uint8), "hi") == by_hand(
        b"array |u1 [2]\n\x01\x02text 2\nhi"
    )
    assert data_hash(np.float32(1.5)) == by_hand(b"array <f4 []\n", np.float32(1.5).tobytes())
    assert data_hash(np.array([True, False])) == by_hand(b"array |b1 [2]\n\x01\x00")


def test_pinned_digests() -> None:
    """Pinned (and checked with coreutils: ``printf 'array <i2 [2,3]\\n\\x00\\x00\\x01...' |
    sha256sum``). If one changes, every data hash in published run logs changes with it."""
    assert data_hash(ARRAY) == "21faa693e068ce82b8a0cabd58160e219a1b7dcc0e65156a066f7148809b172e"
    assert data_hash(TEXT) == "d9698c408360f3898b7c157d20fa8e47d04660c37b165a5cff27dcd43a5b88dd"
    assert content_hash({"b": 1, "a": [1, 2]}) == hashlib.sha256(b'{"a":[1,2],"b":1}').hexdigest()


def test_stable_across_processes() -> None:
    code = (
        "import numpy as np; from darwin_bench.hashing import data_hash; "
        "print(data_hash(np.arange(6, dtype=np.int16).reshape(2, 3), 'größe\\n', {'k': 1}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == data_hash(ARRAY, TEXT, {"k": 1})


@pytest.mark.parametrize(
    "part, message",
    [
        (np.array([object()]), "array of Python objects"),
        ({1, 2}, "numpy array, a str or a JSON value; got set"),
        ({"x": float("nan")}, "JSON value; got dict"),
    ],
)
def test_unhashable_parts_raise(part: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        data_hash(part)
