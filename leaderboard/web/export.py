"""The leaderboard as a static site: the served pages and JSON, written to a folder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leaderboard.store import Store
from leaderboard.tracks import Track
from leaderboard.web.pages import PLOTS, STATIC, Links, Pages


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def export_site(store: Store, out: Path, catalog: Sequence[Track] | None = None) -> list[Path]:
    """Write every page, plot and JSON document of ``store`` under ``out``; returns the files.

    Layout: ``index.html``, ``tracks/<name>.html`` (+ ``tracks/<name>/<plot>.svg``),
    ``entries/<id>.html``, ``api/tracks.json``, ``api/tracks/<name>.json``,
    ``api/entries/<id>.json``, ``static/style.css``; links are relative, so the folder can be
    opened from disk or served by any web server.
    """
    pages = Pages(store, catalog=catalog)
    written: list[Path] = []
    _write(out / "index.html", pages.index(Links("", static=True)), written)
    _write(out / "api" / "tracks.json", _json(pages.api_tracks()), written)
    nested = Links("../", static=True)
    for track in pages.catalog:
        _write(out / "tracks" / f"{track.name}.html", pages.track(track, nested), written)
        _write(
            out / "api" / "tracks" / f"{track.name}.json", _json(pages.api_track(track)), written
        )
        if not pages.standings(track):
            continue
        for plot in PLOTS:
            _write(out / "tracks" / track.name / f"{plot}.svg", pages.plot(track, plot), written)
        for standing in pages.standings(track):
            entry = store.entry(standing.entry.entry_id)
            assert entry is not None
            _write(out / "entries" / f"{entry.id}.html", pages.entry(entry, nested), written)
            api = out / "api" / "entries" / f"{entry.id}.json"
            _write(api, _json(pages.api_entry(entry)), written)
    (out / "static").mkdir(parents=True, exist_ok=True)
    for file in STATIC.iterdir():
        shutil.copyfile(file, out / "static" / file.name)
        written.append(out / "static" / file.name)
    return written
