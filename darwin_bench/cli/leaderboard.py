"""``darwin-bench leaderboard``: tracks, run, submit, verify, show, serve, export, migrate,
references. Parsing and printing only; the work is in the ``leaderboard`` package."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from darwin_bench.cli.common import json_dict

#: Environment variable holding the upload token of ``serve``.
TOKEN_VARIABLE = "DARWIN_BENCH_LEADERBOARD_TOKEN"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "leaderboard", help="tracks, verified submissions, rankings and the leaderboard's pages"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    db = {"default": None, "help": "database URL (default: a SQLite file in your data folder)"}

    tracks = actions.add_parser("tracks", help="list the tracks")
    tracks.add_argument("--json", action="store_true", help="print the tracks as JSON")

    run = actions.add_parser("run", help="run an agent on a track: one run log per seed")
    run.add_argument("--track", required=True, help="track name (see `leaderboard tracks`)")
    run.add_argument("--agent", required=True, help="built-in name, path.py:Class, module:Class")
    run.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default: minimum)")
    run.add_argument("--out", default=None, help="folder (default: runs/leaderboard/TRACK/AGENT)")
    run.add_argument("--agent-config", default=None, help="agent config as a JSON object")
    run.add_argument("--name", default=None, help="the entry's name (default: the agent's)")
    run.add_argument("--version", default=None, help="the agent's version")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    for name, text in (
        ("submit", "verify a submission and, when it passes, rank it"),
        ("verify", "verify a submission without storing it"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("paths", nargs="+", metavar="PATH", help="run logs or folders")
        action.add_argument("--track", default=None, help="track (default: the manifest's)")
        action.add_argument("--name", default=None, help="entry name (default: the agent's)")
        action.add_argument("--version", default=None, help="the agent's version")
        action.add_argument("--source", default=None, help="the agent's source file (.py)")
        action.add_argument(
            "--no-retrain", action="store_true", help="live tracks: skip retraining the sample"
        )
        action.add_argument(
            "--no-replay", action="store_true", help="skip the replay audit (runs agent code)"
        )
        action.add_argument("--sample-seed", type=int, default=None, help="retrain sample seed")
        action.add_argument("--json", action="store_true", help="print the report as JSON")
        if name == "submit":
            action.add_argument("--db", **db)

    show = actions.add_parser("show", help="the ranked entries of each track")
    show.add_argument("--track", default=None, help="one track (default: all)")
    show.add_argument("--db", **db)
    show.add_argument("--json", action="store_true", help="print the standings as JSON")

    serve = actions.add_parser("serve", help="serve the leaderboard's pages and JSON API")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--db", **db)
    serve.add_argument(
        "--token-file",
        default=None,
        help=f"file holding the upload token (or ${TOKEN_VARIABLE}); none: uploads disabled",
    )
    serve.add_argument(
        "--run-uploaded-code",
        action="store_true",
        help="replay-audit uploaded agent sources (executes them on this machine)",
    )
    serve.add_argument(
        "--max-upload-mb", type=float, default=64.0, help="largest upload body (default 64)"
    )

    export = actions.add_parser("export", help="write the pages as a static site")
    export.add_argument("--out", required=True, help="folder of the site")
    export.add_argument("--db", **db)

    migrate = actions.add_parser("migrate", help="upgrade a database to this version's schema")
    migrate.add_argument("--db", **db)

    references = actions.add_parser(
        "references", help="produce and verify the reference entries (every built-in agent)"
    )
    references.add_argument("--track", default=None, help="tracks, comma-separated (default all)")
    references.add_argument("--agents", default=None, help="agents, comma-separated (default all)")
    references.add_argument("--work", default="runs/references", help="folder of the runs")
    references.add_argument("--out", default=None, help="folder (default: leaderboard/references)")
    references.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=main)


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:  # files and pipes: wide enough for the tables
        console = Console(stderr=stderr, width=max(console.width, 160))
    return console


@contextmanager
def _progress(total: float, description: str, hidden: bool) -> Iterator[Any]:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    with Progress(
        description,
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=hidden,
    ) as progress:
        bar = progress.add_task(description, total=total)

        def tick(evaluation: Any) -> None:
            progress.update(bar, advance=evaluation.spent or 1)

        yield tick


def _tracks(args: argparse.Namespace) -> int:
    from leaderboard.terminal import tracks_table
    from leaderboard.tracks import tracks

    if args.json:
        print(json.dumps([t.to_dict() for t in tracks()], indent=2))
    else:
        _console().print(tracks_table(tracks()))
    return 0


def _run(args: argparse.Namespace) -> int:
    from leaderboard.board import run_on_track
    from leaderboard.tracks import get_track

    track = get_track(args.track)
    config = json_dict("--agent-config", args.agent_config)
    seeds = args.seeds or track.min_seeds
    stem = args.agent.split(":")[-1].removesuffix(".py").replace("/", "-")
    out = Path(args.out or Path("runs") / "leaderboard" / track.name / stem)
    with _progress(seeds * track.budget, f"{args.agent} on {track.name}", args.no_progress) as t:
        manifest = run_on_track(
            track,
            args.agent,
            out,
            seeds=seeds,
            agent_config=config,
            name=args.name,
            version=args.version,
            on_evaluation=t,
        )
    print(f"submission: {manifest}")
    print(f"submit it:  darwin-bench leaderboard submit {manifest.parent}")
    return 0


def _print_report(report: Any, as_json: bool) -> None:
    from leaderboard.terminal import report_table

    if as_json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        return
    console = _console()
    console.print(report_table(report))
    for rejection in report.rejections:
        console.print(f"rejected: {rejection}", markup=False, highlight=False)


def _submit(args: argparse.Namespace) -> int:
    from leaderboard.board import open_board, submit
    from leaderboard.submission import load_submission
    from leaderboard.verify import verify

    submission = load_submission(
        args.paths, track=args.track, name=args.name, version=args.version, source=args.source
    )
    options = {
        "retrain": not args.no_retrain,
        "replay": not args.no_replay,
        "sample_seed": args.sample_seed,
    }
    if args.action == "verify":
        report = verify(submission, **options).report
        _print_report(report, args.json)
        return 0 if report.accepted else 1
    store = open_board(args.db)
    outcome = submit(submission, store, **options)
    _print_report(outcome.report, args.json)
    if outcome.entry_id is not None and not args.json:
        print(f"accepted: entry #{outcome.entry_id} on {submission.track} ({store.url})")
    return 0 if outcome.entry_id is not None else 1


def _show(args: argparse.Namespace) -> int:
    from leaderboard.board import open_board, standings
    from leaderboard.terminal import standings_table
    from leaderboard.tracks import get_track, tracks

    chosen = [get_track(args.track)] if args.track else tracks()
    store = open_board(args.db)
    if args.json:
        data = {t.name: [s.to_dict() for s in standings(store, t)] for t in chosen}
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    console = _console()
    for track in chosen:
        console.print(standings_table(track, standings(store, track)))
    return 0


def _token(path: str | None) -> str | None:
    if path:
        token = Path(path).read_text(encoding="utf-8").strip()
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token and len(token) < 16:
        raise ValueError("token: use at least 16 characters (e.g. `openssl rand -hex 32`)")
    return token or None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from leaderboard.board import open_board
    from leaderboard.web.app import create_app

    token = _token(args.token_file)
    app = create_app(
        open_board(args.db),
        token=token,
        run_uploaded_code=args.run_uploaded_code,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
    )
    uploads = "uploads need the token" if token else "uploads disabled (no token)"
    print(f"leaderboard on http://{args.host}:{args.port}/ ({uploads})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _export(args: argparse.Namespace) -> int:
    from leaderboard.board import open_board
    from leaderboard.web.export import export_site

    files = export_site(open_board(args.db), Path(args.out))
    print(f"{len(files)} files in {args.out}; open {Path(args.out) / 'index.html'}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from leaderboard.store import default_url, migrate

    revision = migrate(args.db)
    print(f"{args.db or default_url()}: schema revision {revision}")
    return 0


def _references(args: argparse.Namespace) -> int:
    from leaderboard.references import produce, reference_agents
    from leaderboard.tracks import get_track, tracks

    chosen = [get_track(n.strip()) for n in args.track.split(",")] if args.track else tracks()
    options: dict[str, Any] = {"work": args.work}
    if args.out:
        options["out"] = args.out
    for track in chosen:
        agents = [a.strip() for a in args.agents.split(",")] if args.agents else None
        names = agents or reference_agents(track)
        total = len(names) * track.min_seeds * track.budget
        with _progress(total, f"references on {track.name}", args.no_progress) as tick:
            folders = produce(
                track,
                names,
                on_evaluation=tick,
                on_entry=lambda agent, report: print(f"{agent}: {report.summary()}"),
                **options,
            )
        for folder in folders:
            print(f"wrote {folder}")
    return 0


ACTIONS = {
    "tracks": _tracks,
    "run": _run,
    "submit": _submit,
    "verify": _submit,
    "show": _show,
    "serve": _serve,
    "export": _export,
    "migrate": _migrate,
    "references": _references,
}


def main(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)
