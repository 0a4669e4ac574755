"""The leaderboard's web server (FastAPI): pages, plots, a JSON API and a token-guarded upload.

Routes:

- ``GET /``: the tracks; ``GET /tracks/{name}``: a track's standings and plots
  (``/tracks/{name}/best-so-far.svg``, ``/tracks/{name}/fronts.svg``);
  ``GET /entries/{id}``: an entry's verification report, config, runs and source.
- ``GET /api/tracks``, ``/api/tracks/{name}``, ``/api/entries/{id}``: the same as JSON;
  ``GET /api/entries/{id}/runs/{file}``: a stored run log (JSON Lines).
- ``POST /api/submissions``: a submission as one JSON document
  (:class:`leaderboard.submission.Submission`), with ``Authorization: Bearer <token>``.
  It is verified like ``darwin-bench leaderboard submit`` and answered with the report:
  201 ranked, 409 duplicate, 422 rejected; 401 without the right token, 403 when the server
  has no token (uploads disabled), 413 over the size limit. An uploaded agent source is
  executed by the replay audit only when the server was started to run uploaded code.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from leaderboard.board import submit
from leaderboard.store import Store
from leaderboard.submission import parse_submission
from leaderboard.tracks import Track
from leaderboard.web.pages import CSP, PLOTS, STATIC, Links, Pages

#: Default largest upload body.
MAX_UPLOAD_BYTES = 64 << 20
#: Links of the served site (pages at the root).
LINKS = Links("/")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (whatever Content-Length says)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is over the limit of {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    store: Store,
    *,
    catalog: Sequence[Track] | None = None,
    token: str | None = None,
    run_uploaded_code: bool = False,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
) -> FastAPI:
    """The server's application.

    Args:
        store: the leaderboard's database.
        catalog: the tracks served (default: the packaged ones).
        token: the upload token (``None``: uploads are disabled).
        run_uploaded_code: replay-audit uploaded agent sources (runs them here).
        max_upload_bytes: the largest upload body.
    """
    app = FastAPI(
        title="darwin_bench leaderboard",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    pages = Pages(store, catalog=catalog, uploads=token is not None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.middleware("http")(_security_headers)
    _page_routes(app, pages, store)
    _api_routes(app, pages, store)
    _upload_route(app, pages, store, token, run_uploaded_code, max_upload_bytes)
    return app


async def _security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    if not request.url.path.startswith("/api/docs"):
        response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _track(pages: Pages, name: str) -> Track:
    try:
        return pages.track_named(name)
    except ValueError:
        raise HTTPException(404, f"no track {name!r}") from None


def _entry(store: Store, entry_id: int) -> Any:
    entry = store.entry(entry_id)
    if entry is None:
        raise HTTPException(404, f"no entry #{entry_id}")
    return entry


def _page_routes(app: FastAPI, pages: Pages, store: Store) -> None:
    """The HTML pages and the SVG plots."""

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return pages.index(LINKS)

    @app.get("/tracks/{name}", response_class=HTMLResponse)
    def track_page(name: str) -> str:
        return pages.track(_track(pages, name), LINKS)

    @app.get("/tracks/{name}/{plot}.svg")
    def plot(name: str, plot: str) -> Response:
        if plot not in PLOTS:
            raise HTTPException(404, f"no plot {plot!r}; plots: {', '.join(PLOTS)}")
        return Response(pages.plot(_track(pages, name), plot), media_type="image/svg+xml")

    @app.get("/entries/{entry_id}", response_class=HTMLResponse)
    def entry_page(entry_id: int) -> str:
        return pages.entry(_entry(store, entry_id), LINKS)


def _api_routes(app: FastAPI, pages: Pages, store: Store) -> None:
    """The JSON API (reads) and the stored run logs."""

    @app.get("/api/tracks")
    def api_tracks() -> list[dict[str, Any]]:
        return pages.api_tracks()

    @app.get("/api/tracks/{name}")
    def api_track(name: str) -> dict[str, Any]:
        return pages.api_track(_track(pages, name))

    @app.get("/api/entries/{entry_id}")
    def api_entry(entry_id: int) -> dict[str, Any]:
        return pages.api_entry(_entry(store, entry_id))

    @app.get("/api/entries/{entry_id}/runs/{name}")
    def api_run(entry_id: int, name: str) -> PlainTextResponse:
        text = store.run_log(entry_id, name)
        if text is None:
            raise HTTPException(404, f"entry #{entry_id} has no run log {name!r}")
        return PlainTextResponse(text, media_type="application/x-ndjson")


def _upload_route(
    app: FastAPI,
    pages: Pages,
    store: Store,
    token: str | None,
    run_uploaded_code: bool,
    max_upload_bytes: int,
) -> None:
    """``POST /api/submissions`` (see the module docstring)."""

    @app.post("/api/submissions")
    async def upload(request: Request) -> JSONResponse:
        if token is None:
            raise HTTPException(403, "uploads are disabled on this server (no token)")
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "an upload needs the header 'Authorization: Bearer TOKEN'")
        body = await _body(request, max_upload_bytes)
        try:
            submission = parse_submission(json.loads(body))
            track = pages.track_named(submission.track)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPException(422, str(exc).splitlines()[0]) from None
        outcome = await run_in_threadpool(
            submit, submission, store, track=track, run_sources=run_uploaded_code
        )
        report = outcome.report.to_dict()
        if outcome.entry_id is not None:
            content = {"accepted": True, "entry": outcome.entry_id, "report": report}
            content["url"] = LINKS.entry(outcome.entry_id)
            return JSONResponse(content, status_code=201)
        duplicate = any(r.check == "duplicate" for r in outcome.report.rejections)
        content = {"accepted": False, "reason": outcome.report.summary(), "report": report}
        return JSONResponse(content, status_code=409 if duplicate else 422)
