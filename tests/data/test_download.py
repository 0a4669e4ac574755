"""Tests for darwin_bench.data.download: cache, checksums, offline mode, failures."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from darwin_bench import __version__
from darwin_bench.data import download
from darwin_bench.data.download import (
    DataIntegrityError,
    DatasetUnavailableError,
    Source,
    cache_dir,
    fetch,
    file_digest,
    parse_checksum,
)

PAYLOAD = b"darwin_bench test payload\n" * 1000


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DARWIN_BENCH_OFFLINE", raising=False)
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(tmp_path / "default-cache"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "payload.bin"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    user_agents: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:  # silence the test output
        pass

    def do_GET(self) -> None:
        if self.path == "/payload.bin":
            _Handler.user_agents.append(self.headers.get("User-Agent", ""))
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/truncated.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) + 500))
            self.end_headers()
            self.wfile.write(PAYLOAD)
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/slow.bin":
            time.sleep(1.0)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_error(404)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- checksum parsing and digests ------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        "sha1:" + "0" * 40,
        "sha256:" + "0" * 63,
        "md5:" + "0" * 31,
        "md5:" + "g" * 32,
        "sha256",
        "",
    ],
)
def test_bad_checksum_is_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checksum"):
        parse_checksum(bad)
    with pytest.raises(ValueError, match="sha256:<64 hex digits>"):
        fetch("file:///nonexistent", bad, cache=tmp_path)


def test_checksum_is_case_insensitive() -> None:
    digest = "AB" * 32
    assert parse_checksum(f"SHA256:{digest}") == ("sha256", digest.lower())


def test_file_digest_matches_hashlib(source_file: Path) -> None:
    assert file_digest(source_file) == hashlib.sha256(PAYLOAD).hexdigest()
    assert file_digest(source_file, "md5") == hashlib.md5(PAYLOAD).hexdigest()
    with pytest.raises(ValueError, match="algorithm"):
        file_digest(source_file, "sha1")


# --- cache directory -------------------------------------------------------------------------


def test_cache_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(target))
    assert cache_dir() == target
    assert target.is_dir()


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DARWIN_BENCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "darwin_bench"
    assert cache_dir().is_dir()


# --- fetching --------------------------------------------------------------------------------


def test_fetch_file_url_then_cached_without_source(source_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = fetch(source_file.as_uri(), sha256(PAYLOAD), cache=cache)
    assert path == cache / "payload.bin"
    assert path.read_bytes() == PAYLOAD
    source_file.unlink()  # a second call must not read the source again
    assert fetch(source_file.as_uri(), sha256(PAYLOAD), cache=cache) == path
    assert leftovers(cache) == ["payload.bin"]


def test_fetch_md5_custom_filename_and_default_cache(source_file: Path, tmp_path: Path) -> None:
    path = fetch(source_file.as_uri(), md5(PAYLOAD), "renamed.bin")
    assert path == tmp_path / "default-cache" / "renamed.bin"
    assert path.read_bytes() == PAYLOAD


def test_source_fetch(source_file: Path, tmp_path: Path) -> None:
    source = Source(source_file.as_uri(), md5(PAYLOAD), "via-source.bin")
    assert source.fetch(cache=tmp_path / "c").read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="checksum"):
        Source(source_file.as_uri(), "crc32:1234", "x.bin")


def test_source_mirrors_only_stand_in_for_unreachable_urls(
    source_file: Path, tmp_path: Path
) -> None:
    missing = (tmp_path / "nowhere.bin").as_uri()
    source = Source(missing, md5(PAYLOAD), "mirrored.bin", mirrors=(source_file.as_uri(),))
    assert source.urls == (missing, source_file.as_uri())
    assert source.fetch(cache=tmp_path / "c1").read_bytes() == PAYLOAD
    # A URL that delivers the wrong bytes is an integrity error, not a reason to try a mirror.
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(PAYLOAD[:-1] + b"!")
    source = Source(corrupt.as_uri(), md5(PAYLOAD), "mirrored.bin", mirrors=(source_file.as_uri(),))
    with pytest.raises(DataIntegrityError, match="does not match its checksum"):
        source.fetch(cache=tmp_path / "c2")
    assert not (tmp_path / "c2" / "mirrored.bin").exists()


def test_fetch_http(server: str, tmp_path: Path) -> None:
    _Handler.user_agents.clear()
    path = fetch(f"{server}/payload.bin", sha256(PAYLOAD), cache=tmp_path / "cache")
    assert path.read_bytes() == PAYLOAD
    assert _Handler.user_agents == [f"darwin-bench/{__version__} (dataset download)"]


def test_wrong_checksum_download_never_lands(source_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wrong = sha256(b"something else")
    with pytest.raises(DataIntegrityError) as info:
        fetch(source_file.as_uri(), wrong, cache=cache)
    message = str(info.value)
    assert "payload.bin" in message
    assert wrong in message
    assert sha256(PAYLOAD) in message
    assert info.value.expected == wrong and info.value.actual == sha256(PAYLOAD)
    assert leftovers(cache) == []  # neither the final file nor a temporary one


def test_truncated_http_download_never_lands(server: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(DataIntegrityError, match="truncated"):
        fetch(f"{server}/truncated.bin", sha256(PAYLOAD), cache=cache, timeout=5)
    assert leftovers(cache) == []


def test_corrupt_cached_file_is_refused_and_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "payload.bin").write_bytes(PAYLOAD[:-10])  # e.g. a truncated manual download
    with pytest.raises(DataIntegrityError) as info:
        fetch("https://example.invalid/payload.bin", sha256(PAYLOAD), cache=cache)
    message = str(info.value)
    assert str(cache / "payload.bin") in message
    assert sha256(PAYLOAD) in message
    assert sha256(PAYLOAD[:-10]) in message
    assert (cache / "payload.bin").read_bytes() == PAYLOAD[:-10]  # user's file left alone


def test_manually_placed_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "payload.bin").write_bytes(PAYLOAD)
    path = fetch("https://example.invalid/payload.bin", md5(PAYLOAD), cache=cache)
    assert path == cache / "payload.bin"


def test_offline_refuses_network_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source_file: Path
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was touched in offline mode")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
    cache = tmp_path / "cache"
    url = "https://example.invalid/data/archive.zip"
    with pytest.raises(DatasetUnavailableError) as info:
        fetch(url, sha256(PAYLOAD), cache=cache)
    message = str(info.value)
    assert url in message
    assert "archive.zip" in message
    assert str(cache / "archive.zip") in message
    assert "DARWIN_BENCH_OFFLINE" in message
    assert info.value.path == cache / "archive.zip"
    assert leftovers(cache) == []


def test_offline_still_reads_file_urls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source_file: Path
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    path = fetch(source_file.as_uri(), sha256(PAYLOAD), cache=tmp_path / "cache")
    assert path.read_bytes() == PAYLOAD


def test_missing_file_url_is_unavailable(tmp_path: Path) -> None:
    url = (tmp_path / "absent.txt").as_uri()
    with pytest.raises(DatasetUnavailableError) as info:
        fetch(url, sha256(PAYLOAD), cache=tmp_path / "cache")
    assert url in str(info.value)
    assert str(tmp_path / "cache" / "absent.txt") in str(info.value)
    assert leftovers(tmp_path / "cache") == []


def test_http_404_is_unavailable(server: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="404"):
        fetch(f"{server}/nothing.bin", sha256(PAYLOAD), cache=tmp_path / "cache")
    assert leftovers(tmp_path / "cache") == []


def test_timeout_is_unavailable(server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError, match=r"slow\.bin"):
        fetch(f"{server}/slow.bin", sha256(PAYLOAD), cache=tmp_path / "cache", timeout=0.2)
    assert time.monotonic() - start < 0.9
    assert leftovers(tmp_path / "cache") == []


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DatasetUnavailableError, match="could not download"):
        fetch(f"http://127.0.0.1:{port}/x.bin", sha256(PAYLOAD), cache=tmp_path / "c", timeout=2)


@pytest.mark.parametrize(
    ("url", "filename", "field"),
    [
        ("ftp://example.invalid/x.bin", None, "scheme"),
        ("https://example.invalid/", None, "filename"),
        ("https://example.invalid/x.bin", "../x.bin", "filename"),
        ("https://example.invalid/x.bin", "sub/x.bin", "filename"),
    ],
)
def test_bad_arguments(url: str, filename: str | None, field: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=field):
        fetch(url, sha256(PAYLOAD), filename, cache=tmp_path)


def test_bad_timeout(tmp_path: Path, source_file: Path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        fetch(source_file.as_uri(), sha256(PAYLOAD), cache=tmp_path, timeout=0)
