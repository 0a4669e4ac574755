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
from typing import IO

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
        filename: Name of the file in the cache directory (unique across datasets).
        reference: Where the published checksum comes from (for documentation only).
        mirrors: Further URLs of the same file, tried in order when the ones before are
            unreachable (a file that arrives with the wrong checksum is never retried elsewhere).
    """

    url: str
    checksum: str
    filename: str
    reference: str = ""
    mirrors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parse_checksum(self.checksum)
        _check_filename(self.filename)
        object.__setattr__(self, "mirrors", tuple(self.mirrors))

    @property
    def urls(self) -> tuple[str, ...]:
        """:attr:`url` then the :attr:`mirrors`."""
        return (self.url, *self.mirrors)

    def fetch(self, *, cache: Path | None = None, timeout: float = 30.0) -> Path:
        """Fetch this file with :func:`fetch` from the first URL that answers.

        Raises:
            DataIntegrityError: as :func:`fetch` (a corrupt file is not retried on a mirror).
            DatasetUnavailableError: when no URL can deliver it; the message lists each URL's
                failure.
        """
        errors: list[str] = []
        for url in self.urls:
            try:
                return fetch(url, self.checksum, self.filename, cache=cache, timeout=timeout)
            except DatasetUnavailableError as exc:
                if len(self.urls) == 1:
                    raise
                errors.append(f"{url}: {exc}")
        raise DatasetUnavailableError(
            f"{self.filename} could not be fetched from any mirror:\n  " + "\n  ".join(errors),
            url=self.url,
            filename=self.filename,
        )


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


@dataclass(frozen=True)
class _Target:
    """One file being fetched: where from, where to, and the digest it must have."""

    url: str
    filename: str
    dest: Path
    algorithm: str
    expected: str

    @property
    def want(self) -> str:
        return f"{self.algorithm}:{self.expected}"

    def by_hand(self) -> str:
        return (
            f"To use it without network access, download {self.url} yourself and place it, "
            f"named {self.filename!r}, at {self.dest} (expected {self.want}); or set {DATA_ENV} "
            "to a directory that holds it."
        )

    def unavailable(self, reason: str) -> DatasetUnavailableError:
        return DatasetUnavailableError(
            f"{reason}. {self.by_hand()}", url=self.url, filename=self.filename, path=self.dest
        )

    def truncated(self, announced: object, size: int) -> DataIntegrityError:
        return DataIntegrityError(
            f"download of {self.filename!r} from {self.url} was truncated: expected {announced} "
            f"bytes, got {size}; nothing was written to {self.dest}",
            path=self.dest,
            expected=f"{announced} bytes",
            actual=f"{size} bytes",
        )

    def mismatch(self, actual: str, what: str, outcome: str) -> DataIntegrityError:
        return DataIntegrityError(
            f"{what} does not match its checksum: expected {self.want}, got "
            f"{self.algorithm}:{actual}{outcome}",
            path=self.dest,
            expected=self.want,
            actual=f"{self.algorithm}:{actual}",
        )


def _target(
    url: str, checksum: str, filename: str | None, cache: Path | None, timeout: float
) -> _Target:
    """Validate :func:`fetch`'s arguments; return the target (the cache folder is created)."""
    algorithm, expected = parse_checksum(checksum)
    if not isinstance(url, str):
        raise ValueError(f"url must be a str, got {type(url).__name__}")
    if urllib.parse.urlsplit(url).scheme.lower() not in _SCHEMES:
        raise ValueError(f"url scheme must be one of {list(_SCHEMES)}, got {url!r}")
    if filename is None:
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path).rsplit("/", 1)[-1]
    _check_filename(filename)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    directory = Path(cache) if cache is not None else cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return _Target(url, filename, directory / filename, algorithm, expected)


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
    target = _target(url, checksum, filename, cache, timeout)
    if target.dest.exists():
        actual = file_digest(target.dest, target.algorithm)
        if actual != target.expected:
            raise target.mismatch(
                actual,
                f"cached file {target.dest}",
                f". It was left untouched; delete it to download it again from {url}.",
            )
        return target.dest
    if urllib.parse.urlsplit(url).scheme.lower() != "file" and is_offline():
        raise target.unavailable(
            f"{target.filename!r} is not in the cache and {OFFLINE_ENV} is set, so it was not "
            "downloaded"
        )
    _download(target, timeout)
    return target.dest


def _download(target: _Target, timeout: float) -> None:
    """Download into a temporary file beside the destination; verify; then move it in place."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.filename}.", suffix=".part", dir=target.dest.parent
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size, announced, actual = _stream(target, out, timeout)
        if announced is not None and announced.strip().isdigit() and int(announced) != size:
            raise target.truncated(announced.strip(), size)
        if actual != target.expected:
            raise target.mismatch(
                actual,
                f"downloaded {target.filename!r} from {target.url}",
                f" ({size} bytes); nothing was written to {target.dest}",
            )
        os.replace(tmp, target.dest)
    finally:
        tmp.unlink(missing_ok=True)


def _stream(target: _Target, out: IO[bytes], timeout: float) -> tuple[int, str | None, str]:
    """Copy the response body to ``out``; return (bytes read, announced length, hex digest).

    Raises:
        DatasetUnavailableError: when the server cannot be reached or the connection fails.
        DataIntegrityError: when the server closes the connection early.
    """
    hasher = _new_hash(target.algorithm)
    size = 0
    try:
        request = urllib.request.Request(target.url, headers={"User-Agent": _USER_AGENT})
        response = urllib.request.urlopen(request, timeout=timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError, HTTPError, TimeoutError and socket errors are all OSErrors.
        raise target.unavailable(f"could not download {target.url} ({exc})") from exc
    with response:
        headers = getattr(response, "headers", None)
        announced = headers.get("Content-Length") if headers is not None else None
        while True:
            try:
                chunk = response.read(_CHUNK)
            except http.client.IncompleteRead as exc:
                raise target.truncated(announced, size + len(exc.partial)) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise target.unavailable(f"could not download {target.url} ({exc})") from exc
            if not chunk:
                return size, announced, hasher.hexdigest()
            out.write(chunk)
            hasher.update(chunk)
            size += len(chunk)
