"""``darwin-bench leaderboard``: run an agent on a track, verify, submit, show, export."""

from __future__ import annotations

import json

import pytest

from darwin_bench.cli import main


@pytest.fixture
def board_env(tmp_path, monkeypatch, tiny_tab, tiny_live):
    """A private board: a track file with the test tracks, a database in ``tmp_path``."""
    tracks = tmp_path / "tracks.json"
    tracks.write_text(
        json.dumps(
            {
                "format": "darwin_bench.tracks/1",
                "darwin_bench": ">=0.1",
                "tracks": [tiny_tab.to_dict(), tiny_live.to_dict()],
            }
        )
    )
    monkeypatch.setenv("DARWIN_BENCH_LEADERBOARD_TRACKS", str(tracks))
    monkeypatch.setenv("DARWIN_BENCH_LEADERBOARD_DB", f"sqlite:///{tmp_path / 'board.sqlite'}")
    return tmp_path


def test_tracks_lists_the_packaged_tracks(capsys) -> None:
    assert main(["leaderboard", "tracks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "digits-mlp-live" in [t["name"] for t in listed]
    assert main(["leaderboard", "tracks"]) == 0
    assert "darwin_bench/Digits-MLP-v0" in capsys.readouterr().out


def test_run_verify_submit_show_export(board_env, capsys) -> None:
    out = board_env / "mine"
    argv = ["leaderboard", "run", "--track", "tiny-tab", "--agent", "random", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    assert (out / "submission.json").exists()
    assert f"leaderboard submit {out}" in capsys.readouterr().out

    assert main(["leaderboard", "verify", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accepted"] and report["facts"]["evaluations_checked"] == 60

    assert main(["leaderboard", "submit", str(out)]) == 0
    assert "accepted: entry #1 on tiny-tab" in capsys.readouterr().out
    assert main(["leaderboard", "submit", str(out)]) == 1  # the same results again
    assert "duplicate" in capsys.readouterr().out

    assert main(["leaderboard", "show", "--track", "tiny-tab"]) == 0
    shown = capsys.readouterr().out
    assert "random" in shown and "#1" in shown
    assert main(["leaderboard", "show", "--json"]) == 0
    standings = json.loads(capsys.readouterr().out)
    assert [s["agent"] for s in standings["tiny-tab"]] == ["random"]
    assert standings["tiny-live"] == []

    site = board_env / "site"
    assert main(["leaderboard", "export", "--out", str(site)]) == 0
    assert (site / "tracks" / "tiny-tab.html").exists()
    assert (site / "tracks" / "tiny-tab" / "best-so-far.svg").exists()
    assert json.loads((site / "api" / "entries" / "1.json").read_text())["agent"] == "random"


def test_a_rejected_submission_exits_1_with_the_reason(board_env, tab_runs, capsys) -> None:
    log = sorted(tab_runs["random"].glob("*.jsonl"))[0]
    assert main(["leaderboard", "submit", str(log), "--track", "tiny-tab", "--no-replay"]) == 1
    shown = capsys.readouterr().out
    assert "REJECTED" in shown and "1 runs; track tiny-tab needs at least 10" in shown


def test_bad_input_is_one_line_and_exit_2(board_env, capsys) -> None:
    assert main(["leaderboard", "show", "--track", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "track must be one of tiny-tab, tiny-live" in err
    assert main(["leaderboard", "submit", "/no/such/file.jsonl", "--track", "tiny-tab"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["leaderboard", "show", "--db", "nonsense://"]) == 2
    assert "not a usable SQLAlchemy URL" in capsys.readouterr().err
