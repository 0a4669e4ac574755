"""Content hashes: one byte layout for arrays, text and JSON values, used by every module.

Three functions, all SHA-256 with lowercase hex digests:

- :func:`data_hash` for data (a task's ``data_hash``, a data set's ``sha256``): the hash of a
  sequence of parts, each an array, a text or a JSON value, serialized as below and
  concatenated. Every part says its kind and its length (an array through its dtype and
  shape), so different sequences never give the same bytes: moving a line from ``train`` to
  ``valid`` changes the hash, and so does reshaping an array or changing its dtype.
- :func:`content_hash` for identities (architectures, evaluation ids, cache keys): the hash of
  one JSON value's canonical JSON.
- :func:`file_sha256` for a file as it is on disk (a user's agent or plug-in source in a run
  log): the hash of its bytes, what ``sha256sum`` prints.

Byte layout of a :func:`data_hash` part (``\\n`` is the byte 0x0A):

- **array** (a ``numpy.ndarray`` or numpy scalar): ``array <dtype> <shape>\\n`` in ASCII, then
  the elements' bytes in C (row-major) order, little-endian. ``<dtype>`` is NumPy's
  ``dtype.str`` of the little-endian dtype (``<f4``, ``<i8``, ``|u1``, ``|b1``); ``<shape>`` is
  the shape as a JSON list without spaces (``[3,28,28]``, ``[]`` for a 0-d array). Values are
  hashed as stored: a float32 array and its float64 copy hash differently. Arrays of Python
  objects are refused.
- **text** (a ``str``): ``text <n>\\n`` in ASCII, where ``<n>`` is the number of bytes of the
  text's UTF-8 encoding in decimal, then those bytes.
- **JSON** (anything else: dict, list, number, bool, None): ``json <n>\\n``, then the ``<n>``
  bytes of its canonical JSON (:func:`canonical_json`).

Example: ``data_hash(np.array([1, 2], dtype=np.uint8), "hi")`` is the SHA-256 of
``b"array |u1 [2]\\n\\x01\\x02text 2\\nhi"``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["canonical_json", "content_hash", "data_hash", "file_sha256"]


def canonical_json(obj: Any) -> str:
    """Serialize ``obj`` to the canonical JSON used for content hashes.

    Keys are sorted, separators fixed and non-ASCII escaped, so the same value gives the same
    bytes in every process and on every machine.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def content_hash(obj: Any) -> str:
    """Return the SHA-256 hex digest of ``obj``'s canonical JSON (ASCII bytes)."""
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def _array_bytes(array: np.ndarray) -> tuple[bytes, bytes]:
    if array.dtype.hasobject:
        raise ValueError(f"cannot hash an array of Python objects (dtype {array.dtype})")
    little = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    shape = json.dumps(list(little.shape), separators=(",", ":"))
    return f"array {little.dtype.str} {shape}\n".encode("ascii"), little.tobytes()


def _part_bytes(part: Any) -> tuple[bytes, bytes]:
    """``(header, payload)`` of one part (see the module docstring)."""
    if isinstance(part, (np.ndarray, np.generic)):
        return _array_bytes(np.asarray(part))
    if isinstance(part, str):
        payload = part.encode("utf-8")
        return f"text {len(payload)}\n".encode("ascii"), payload
    try:
        payload = canonical_json(part).encode("ascii")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"a hashed part must be a numpy array, a str or a JSON value; got "
            f"{type(part).__name__} ({exc})"
        ) from None
    return f"json {len(payload)}\n".encode("ascii"), payload


def data_hash(*parts: Any) -> str:
    """SHA-256 hex digest of ``parts`` in the layout of the module docstring.

    Args:
        *parts: numpy arrays, texts (``str``) and JSON values, in order.

    Raises:
        ValueError: for a part that is none of these (or an array of Python objects, or a
            JSON value with NaN or infinity).
    """
    digest = hashlib.sha256()
    for part in parts:
        header, payload = _part_bytes(part)
        digest.update(header)
        digest.update(payload)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes (as ``sha256sum`` prints it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
