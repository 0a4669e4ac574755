"""The leaderboard's pages and JSON documents, shared by the server and the static export.

Pages are Jinja2 templates rendered with autoescaping on: every name, version, config and
source a submitter chose is shown as text, never as markup. The pages carry no script at all
and a Content-Security-Policy that forbids scripts, so even a template mistake could not run
one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from darwin_bench.version import __version__
from leaderboard.ranking import Standing, front_cost
from leaderboard.store import Store, StoredEntry
from leaderboard.terminal import budget_text
from leaderboard.tracks import Track, tracks
from leaderboard.web.plots import best_so_far_svg, fronts_svg

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
#: The plots of a track page, by file stem.
PLOTS = ("best-so-far", "fronts")
#: Pages forbid scripts, frames and foreign resources.
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Links:
    """URLs of the site, relative to the page being rendered.

    Attributes:
        root: the way to the site's root from the page (``"/"`` served; ``""`` or ``"../"``
            in the static export).
        static: the static export (pages are ``.html`` files, JSON ``.json`` files).
    """

    root: str = "/"
    static: bool = False

    @property
    def _page(self) -> str:
        return ".html" if self.static else ""

    def home(self) -> str:
        return f"{self.root}index.html" if self.static else self.root

    def track(self, name: str) -> str:
        return f"{self.root}tracks/{name}{self._page}"

    def plot(self, name: str, plot: str) -> str:
        return f"{self.root}tracks/{name}/{plot}.svg"

    def entry(self, entry_id: int) -> str:
        return f"{self.root}entries/{entry_id}{self._page}"

    def css(self) -> str:
        return f"{self.root}static/style.css"

    def api(self, path: str) -> str:
        return f"{self.root}api/{path}" + (".json" if self.static else "")


class Pages:
    """Renders the site from a store; standings are cached until the track's entries change.

    Args:
        store: the leaderboard's database.
        catalog: the tracks shown (default: the packaged ones).
        uploads: say on the pages that uploads are open (server with a token).
    """

    def __init__(
        self, store: Store, *, catalog: Sequence[Track] | None = None, uploads: bool = False
    ) -> None:
        self.store = store
        self.catalog = list(catalog) if catalog is not None else tracks()
        self.uploads = uploads
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._cache: dict[str, tuple[tuple[int, ...], list[Standing]]] = {}

    # ------------------------------------------------------------------- data
    def track_named(self, name: str) -> Track:
        """A track of the catalog.

        Raises:
            ValueError: for an unknown name (the known ones are listed).
        """
        for track in self.catalog:
            if track.name == name:
                return track
        known = ", ".join(t.name for t in self.catalog)
        raise ValueError(f"track must be one of {known}; got {name!r}")

    def standings(self, track: Track) -> list[Standing]:
        """The track's standings (cached by the ids of its entries)."""
        from leaderboard.ranking import rank

        entries = self.store.standings_input(track.name)
        key = tuple(e.entry_id for e in entries)
        cached = self._cache.get(track.name)
        if cached is None or cached[0] != key:
            cached = (key, rank(entries, multi_objective=track.multi_objective))
            self._cache[track.name] = cached
        return cached[1]

    def plot(self, track: Track, plot: str) -> str:
        """One of the track's :data:`PLOTS` as SVG text."""
        rows = self.standings(track)
        if plot == "best-so-far":
            return best_so_far_svg(track, rows)
        return fronts_svg(track, rows, front_cost(track))

    # ------------------------------------------------------------------ pages
    def _render(self, template: str, links: Links, **context: Any) -> str:
        return self.env.get_template(template).render(
            links=links, csp=CSP, version=__version__, uploads=self.uploads, **context
        )

    def index(self, links: Links) -> str:
        """The list of tracks."""
        counts = self.store.counts()
        rows = [(t, budget_text(t), counts.get(t.name, 0)) for t in self.catalog]
        return self._render("index.html", links, rows=rows)

    def track(self, track: Track, links: Links) -> str:
        """A track's page: its standings, plots and settings."""
        return self._render(
            "track.html",
            links,
            track=track,
            budget=budget_text(track),
            standings=self.standings(track),
            kwargs=json.dumps(track.env_kwargs, sort_keys=True),
            plots=PLOTS,
        )

    def entry(self, entry: StoredEntry, links: Links) -> str:
        """An entry's page: who, what, its verification report and its runs."""
        return self._render(
            "entry.html",
            links,
            entry=entry,
            config=json.dumps(entry.config, indent=2, sort_keys=True),
            facts=json.dumps(entry.report.facts, indent=2, sort_keys=True),
            runs=list(zip(entry.run_names, entry.runs)),
        )

    # ------------------------------------------------------------------- JSON
    def api_tracks(self) -> list[dict[str, Any]]:
        """Every track with its entry count."""
        counts = self.store.counts()
        return [{**t.to_dict(), "entries": counts.get(t.name, 0)} for t in self.catalog]

    def api_track(self, track: Track) -> dict[str, Any]:
        """A track and its standings."""
        return {
            "track": track.to_dict(),
            "standings": [s.to_dict() for s in self.standings(track)],
        }

    @staticmethod
    def api_entry(entry: StoredEntry) -> dict[str, Any]:
        """An entry: metadata, report and per-run numbers (curves included)."""
        return {
            "id": entry.id,
            "track": entry.track,
            "agent": entry.agent,
            "version": entry.version,
            "config": entry.config,
            "reference": entry.reference,
            "content_hash": entry.content_hash,
            "submitted": entry.submitted.isoformat(),
            "source_name": entry.source_name,
            "report": entry.report.to_dict(),
            "runs": [
                {"name": name, **scores.to_dict()}
                for name, scores in zip(entry.run_names, entry.runs)
            ],
        }
