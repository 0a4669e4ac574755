"""The served leaderboard, in a real headless browser (Debian's chromium through Playwright).

The server listens on 127.0.0.1 only, on a free port; the browser is the system's chromium,
never a downloaded one.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from leaderboard.board import load_references, submit
from leaderboard.references import reference_agents
from leaderboard.store import Store
from leaderboard.submission import AgentInfo, Submission, load_submission
from leaderboard.tracks import get_track
from leaderboard.web.app import create_app
from leaderboard.web.export import export_site

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "test-token-0123456789abcdef"
SCRIPT_NAME = "<script>alert(1)</script>"
SQL_VERSION = "1'); DROP TABLE entries;--"


class Server:
    """uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: object) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        assert host == "127.0.0.1"
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def board(tmp_path_factory, tiny_live, live_submission) -> Iterator[tuple[str, Store]]:
    """A served board whose tiny live track holds the random agent's reference entry."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'board.sqlite'}")
    outcome = submit(live_submission, store, track=tiny_live, retrain=False, reference=True)
    assert outcome.entry_id is not None, outcome.report.summary()
    app = create_app(store, catalog=[tiny_live], token=TOKEN)
    with Server(app) as url:
        yield url, store
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():  # CI installs it (.ci/run); a machine without it cannot run this
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-extensions",
                "--disable-dev-shm-usage",
            ],
        )
        yield instance
        instance.close()


def _upload(url: str, submission: Submission, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{url}/api/submissions", json=submission.model_dump(), headers=headers, timeout=120
    )


def _rea(live_runs: dict[str, Path]) -> Submission:
    named = load_submission([live_runs["rea"]], track="tiny-live")
    agent = AgentInfo(name=SCRIPT_NAME, version=SQL_VERSION, config=named.agent.config)
    return named.model_copy(update={"agent": agent})


def test_a_track_page_shows_the_reference_entries(board, browser) -> None:
    url, _ = board
    page = browser.new_page()
    page.goto(f"{url}/")
    page.click("text=tiny-live")
    page.wait_for_load_state("load")  # the plots too
    assert page.url == f"{url}/tracks/tiny-live"
    rows = page.locator("#standings tbody tr")
    assert rows.count() >= 1
    first = rows.nth(0)
    assert "random" in first.locator("td.agent").inner_text()
    assert "reference" in first.inner_text()
    for image in page.locator(".plots img").all():  # the plots load (SVG, natural size > 0)
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    page.click("#standings tbody tr >> nth=0 >> a")
    assert "Verification report" in page.content()
    checks = page.locator("#report tbody tr td:first-child").all_inner_texts()
    assert checks[:5] == ["track", "schema", "duplicate", "header", "seeds"]
    page.close()


def test_the_packaged_live_track_shows_its_committed_reference_entries(browser, tmp_path) -> None:
    track = get_track("digits-mlp-live")
    store = Store(f"sqlite:///{tmp_path / 'board.sqlite'}")
    assert all(o.entry_id is not None for o in load_references(store, track.name))
    with Server(create_app(store, catalog=[track])) as url:
        page = browser.new_page()
        page.goto(f"{url}/tracks/{track.name}")
        agents = page.locator("#standings tbody td.agent").all_inner_texts()
        assert sorted(a.split()[0] for a in agents) == sorted(reference_agents(track))
        assert all("reference" in a for a in agents)
        page.close()
    store.close()


def test_an_upload_without_the_token_is_refused(board, live_runs) -> None:
    url, store = board
    before = store.counts()
    assert _upload(url, _rea(live_runs), None).status_code == 401
    assert _upload(url, _rea(live_runs), "wrong-token-0123456789").status_code == 401
    assert store.counts() == before


def test_an_upload_is_limited_in_size(tiny_live, live_submission, tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'small.sqlite'}")
    app = create_app(store, catalog=[tiny_live], token=TOKEN, max_upload_bytes=10_000)
    with Server(app) as url:
        response = _upload(url, live_submission, TOKEN)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert store.counts() == {}


def test_an_upload_with_the_token_is_ranked_and_its_name_is_text(board, browser, live_runs) -> None:
    url, store = board
    response = _upload(url, _rea(live_runs), TOKEN)
    assert response.status_code == 201, response.text
    entry_id = response.json()["entry"]
    again = _upload(url, _rea(live_runs), TOKEN)
    assert again.status_code == 409 and "duplicate" in again.json()["reason"]

    dialogs: list[str] = []
    page = browser.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/tracks/tiny-live")
    rows = page.locator("#standings tbody tr")
    assert rows.count() == 2
    agents = page.locator("#standings td.agent").all_inner_texts()
    assert any(a.startswith(SCRIPT_NAME) for a in agents)  # shown as text...
    assert page.locator("script").count() == 0  # ...never as a script
    page.goto(f"{url}/entries/{entry_id}")
    assert page.locator("h1 .agent").inner_text() == SCRIPT_NAME
    assert SQL_VERSION in page.locator("dl.settings").inner_text()  # stored literally
    assert page.locator("script").count() == 0
    page.close()
    assert dialogs == []

    stored = store.entry(entry_id)
    assert stored is not None and (stored.agent, stored.version) == (SCRIPT_NAME, SQL_VERSION)
    api = httpx.get(f"{url}/api/tracks/tiny-live").json()
    assert {s["agent"] for s in api["standings"]} == {"random", SCRIPT_NAME}


def test_json_api_and_bad_requests(board) -> None:
    url, _ = board
    tracks = httpx.get(f"{url}/api/tracks").json()
    assert [t["name"] for t in tracks] == ["tiny-live"] and tracks[0]["entries"] >= 1
    assert httpx.get(f"{url}/tracks/nope").status_code == 404
    assert httpx.get(f"{url}/entries/999999").status_code == 404
    assert httpx.get(f"{url}/tracks/tiny-live/other.svg").status_code == 404
    page = httpx.get(f"{url}/tracks/tiny-live")
    assert "script-src" not in page.headers["content-security-policy"]  # none allowed at all
    assert "default-src 'none'" in page.headers["content-security-policy"]
    bad = httpx.post(
        f"{url}/api/submissions",
        content=b'{"track": "tiny-live"}',
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert bad.status_code == 422 and "agent" in bad.json()["detail"]


def test_the_static_export_is_the_same_site(board, browser, tiny_live, tmp_path) -> None:
    _, store = board
    site = tmp_path / "site"
    export_site(store, site, catalog=[tiny_live])
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        page = browser.new_page()
        page.goto(f"{url}/index.html")
        page.click("text=tiny-live")
        page.wait_for_load_state("load")
        assert page.url == f"{url}/tracks/tiny-live.html"
        assert "random" in page.locator("#standings").inner_text()
        images = page.locator(".plots img").all()
        assert len(images) == 2
        assert all(i.evaluate("img => img.complete && img.naturalWidth > 0") for i in images)
        page.click("#standings tbody tr >> nth=0 >> a")
        assert page.locator("#report tbody tr").count() >= 7
        page.close()
    finally:
        httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
