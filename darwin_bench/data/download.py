"""Checksummed downloads into a local cache.

Every downloadable dataset goes through :func:`fetch`, which

* returns a cached file at once (no network) when its digest matches the expected one,
* refuses a cached file whose digest does not match (:class:`DataIntegrityError`); it never
  overwrites a file that may have been placed there by hand: delete it to download again,
* otherwise downloads with :mod:`urllib` into a temporary file in the cache directory, checks the
  length announced by the server and the digest, and only then moves the file to its final name
  with :func:`os.replace`, so a truncated or corrupt download never lands under the final name,
* never touches the network when ``DARWIN_BENCH_OFFLINE=1`` (``file://`` URLs still work),
* turns network failures into :class:`DatasetUnavailableError`, whose message names the URL, the
  expected file name and the exact path where the file can be placed by hand.

Nothing downloaded is ever unpickled.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from darwin_bench.version import __version__

__all__ = [
    "DataIntegrityError",
    "DatasetUnavailableError",
    "Source",
    "cache_dir",
    "fetch",
    "file_digest",
    "is_offline",
    "parse_checksum",
]

#: Environment variable naming the cache directory.
DATA_ENV = "DARWIN_BENCH_DATA"
#: Environment variable that, when set to a true value, forbids all network access.
OFFLINE_ENV = "DARWIN_BENCH_OFFLINE"
#: Digest algorithms accepted in a ``checksum`` string, with their hex digest lengths.
ALGORITHMS: dict[str, int] = {"sha256": 64, "md5": 32}

_SCHEMES = ("http", "https", "file")
_CHUNK = 1 << 20
_TRUE = {"1", "true", "yes", "on"}
# Some hosts refuse urllib's default "Python-urllib/x.y" agent.
_USER_AGENT = f"darwin-bench/{__version__} (dataset download)"


class DatasetUnavailableError(RuntimeError):
    """A dataset file is neither cached nor obtainable (offline, unreachable, missing).

    Attributes:
        url: The URL that was (or would have been) fetched, if known.
        filename: The expected file name, if known.
        path: The exact path where the file can be placed by hand, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        filename: str | None = None,
        path: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.filename = filename
        self.path = path


class DataIntegrityError(ValueError):
    """A file failed its integrity check (checksum mismatch, truncated or corrupt content).

    Attributes:
        path: The offending file, if known.
        expected: The expected digest (``"algo:hex"``) or size, if known.
        actual: The actual digest (``"algo:hex"``) or size, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Source:
    """Where one dataset file comes from and what it must hash to.

    Attributes:
        url: ``http(s)://`` or ``file://`` URL of the file.
        checksum: ``"sha256:<hex>"`` or ``"md5:<hex>"``.
        filename: Name of the file in the cache directory.
        reference: Where the published checksum comes from (for documentation only).
    """

    url: str
    checksum: str
    filename: str
    reference: str = ""

    def __post_init__(self) -> None:
        parse_checksum(self.checksum)
        _check_filename(self.filename)

    def fetch(self, *, cache: Path | None = None, timeout: float = 30.0) -> Path:
        """Fetch this file with :func:`fetch` and return its cached path."""
        return fetch(self.url, self.checksum, self.filename, cache=cache, timeout=timeout)


def is_offline() -> bool:
    """Return whether ``DARWIN_BENCH_OFFLINE`` forbids network access (``1``/``true``/``yes``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE


def cache_dir() -> Path:
    """Return the data cache directory, creating it on demand.

    Returns:
        ``$DARWIN_BENCH_DATA`` if set and non-empty, else ``~/.cache/darwin_bench``.
    """
    env = os.environ.get(DATA_ENV, "").strip()
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "darwin_bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def parse_checksum(checksum: str) -> tuple[str, str]:
    """Split a checksum string into ``(algorithm, lowercase hex digest)``.

    Args:
        checksum: ``"sha256:<64 hex digits>"`` or ``"md5:<32 hex digits>"``.

    Raises:
        ValueError: If ``checksum`` is not of one of those forms.
    """
    allowed = "'sha256:<64 hex digits>' or 'md5:<32 hex digits>'"
    if not isinstance(checksum, str) or ":" not in checksum:
        raise ValueError(f"checksum must be {allowed}, got {checksum!r}")
    algorithm, _, digest = checksum.partition(":")
    algorithm = algorithm.strip().lower()
    digest = digest.strip().lower()
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"checksum algorithm must be one of {sorted(ALGORITHMS)} ({allowed}), got {checksum!r}"
        )
    if len(digest) != ALGORITHMS[algorithm] or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"checksum must be {allowed}, got {checksum!r}")
    return algorithm, digest


def _new_hash(algorithm: str) -> hashlib._Hash:
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "md5":
        # md5 is only used to match published digests, not for security.
        return hashlib.md5(usedforsecurity=False)
    raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in chunks.

    Args:
        path: File to hash.
        algorithm: ``"sha256"`` or ``"md5"``.

    Raises:
        ValueError: If ``algorithm`` is not supported.
    """
    hasher = _new_hash(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _check_filename(filename: str) -> str:
    if (
        not isinstance(filename, str)
        or not filename
        or filename in {".", ".."}
        or "/" in filename
        or "\\" in filename
        or "\x00" in filename
    ):
        raise ValueError(
            f"filename must be a plain file name without directory parts, got {filename!r}"
        )
    return filename


def _by_hand(url: str, filename: str, dest: Path, checksum: str) -> str:
    return (
        f"To use it without network access, download {url} yourself and place it, named "
        f"{filename!r}, at {dest} (expected {checksum}); or set {DATA_ENV} to a directory "
        f"that holds it."
    )


def fetch(
    url: str,
    checksum: str,
    filename: str | None = None,
    *,
    cache: Path | None = None,
    timeout: float = 30.0,
) -> Path:
    """Return the path of a verified local copy of ``url``, downloading it if needed.

    Args:
        url: ``http://``, ``https://`` or ``file://`` URL.
        checksum: Expected digest, ``"sha256:<hex>"`` or ``"md5:<hex>"``.
        filename: Name of the file in the cache; defaults to the last component of the URL path.
        cache: Cache directory; defaults to :func:`cache_dir`. Created on demand.
        timeout: Network timeout in seconds for connecting and for each read.

    Returns:
        Path of the verified file inside the cache directory.

    Raises:
        ValueError: On a malformed ``checksum``, ``url``, ``filename`` or ``timeout``.
        DataIntegrityError: If a cached file does not match ``checksum`` (it is left in place:
            delete it to download again), or if the downloaded content is truncated or does not
            match (nothing is written under the final name).
        DatasetUnavailableError: If the file is not cached and cannot be obtained: offline mode,
            network errors, timeouts, a missing ``file://`` source.
    """
    algorithm, expected = parse_checksum(checksum)
    if not isinstance(url, str):
        raise ValueError(f"url must be a str, got {type(url).__name__}")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"url scheme must be one of {list(_SCHEMES)}, got {url!r}")
    if filename is None:
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path).rsplit("/", 1)[-1]
    _check_filename(filename)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")

    directory = Path(cache) if cache is not None else cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / filename
    want = f"{algorithm}:{expected}"

    if dest.exists():
        actual = file_digest(dest, algorithm)
        if actual == expected:
            return dest
        raise DataIntegrityError(
            f"cached file {dest} does not match its checksum: expected {want}, got "
            f"{algorithm}:{actual}. It was left untouched; delete it to download it again from "
            f"{url}.",
            path=dest,
            expected=want,
            actual=f"{algorithm}:{actual}",
        )

    if scheme != "file" and is_offline():
        raise DatasetUnavailableError(
            f"{filename!r} is not in the cache and {OFFLINE_ENV} is set, so it was not "
            "downloaded. " + _by_hand(url, filename, dest, want),
            url=url,
            filename=filename,
            path=dest,
        )

    def unavailable(reason: object) -> DatasetUnavailableError:
        return DatasetUnavailableError(
            f"could not download {url} ({reason}). " + _by_hand(url, filename, dest, want),
            url=url,
            filename=filename,
            path=dest,
        )

    def truncated(expected_size: object, size: int) -> DataIntegrityError:
        return DataIntegrityError(
            f"download of {filename!r} from {url} was truncated: expected {expected_size} "
            f"bytes, got {size}; nothing was written to {dest}",
            path=dest,
            expected=f"{expected_size} bytes",
            actual=f"{size} bytes",
        )

    fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    try:
        hasher = _new_hash(algorithm)
        size = 0
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
                response = urllib.request.urlopen(request, timeout=timeout)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                # URLError, HTTPError, TimeoutError and socket errors are all OSErrors.
                raise unavailable(exc) from exc
            with response:
                headers = getattr(response, "headers", None)
                announced = headers.get("Content-Length") if headers is not None else None
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except http.client.IncompleteRead as exc:
                        raise truncated(announced, size + len(exc.partial)) from exc
                    except (OSError, http.client.HTTPException) as exc:
                        raise unavailable(exc) from exc
                    if not chunk:
                        break
                    out.write(chunk)
                    hasher.update(chunk)
                    size += len(chunk)
        if announced is not None and announced.strip().isdigit() and int(announced) != size:
            raise truncated(announced.strip(), size)
        actual = hasher.hexdigest()
        if actual != expected:
            raise DataIntegrityError(
                f"downloaded {filename!r} from {url} does not match its checksum: expected "
                f"{want}, got {algorithm}:{actual} ({size} bytes); nothing was written to {dest}",
                path=dest,
                expected=want,
                actual=f"{algorithm}:{actual}",
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
