"""Reference entries: every built-in agent on every track, produced and verified by the project.

``darwin-bench leaderboard references`` runs each built-in agent that works on a track's env
form (all but ``evo-synthesis``, made for synapse-mask envs, and ``ppo``, a builder-env
controller) with the track's settings (and its config from the track's ``reference_configs``,
else the agent's defaults) and seeds ``0..min_seeds-1``, verifies the runs in full
(retraining a sample on live tracks, the replay audit on all) and writes each accepted entry to
``leaderboard/references/<track>/<agent>/``: its manifest, its run logs (gzip-compressed,
byte for byte reproducible) and ``report.json``, the report of that verification. A new board
loads them (:func:`leaderboard.board.open_board`), so it is never empty.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from darwin_bench.evaluation import Evaluation
from leaderboard.board import REFERENCES, run_on_track
from leaderboard.report import Report
from leaderboard.submission import load_submission, write_submission
from leaderboard.tracks import Track
from leaderboard.verify import verify


def reference_agents(track: Track) -> list[str]:
    """The built-in agents that work on ``track``'s env form, in registry order."""
    from baselines import AGENTS
    from envs.registration import get_entry

    form = get_entry(track.env_id).form
    return [name for name, cls in AGENTS.items() if form in cls.forms]


def produce(
    track: Track,
    agents: Sequence[str] | None = None,
    *,
    work: str | Path = "runs/references",
    out: str | Path = REFERENCES,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    on_entry: Callable[[str, Report], None] | None = None,
) -> list[Path]:
    """Run, verify and write the reference entries of ``track``; returns their folders.

    Args:
        track: the track.
        agents: built-in agent names (default: :func:`reference_agents`).
        work: where the runs are made (complete logs there are reused, killed runs resume).
        out: where the entries are written (default: the package's ``references`` folder).
        on_evaluation: progress callback.
        on_entry: called with each agent and its verification report.

    Raises:
        RuntimeError: when an entry fails its verification (nothing is written for it).
    """
    folders = []
    for agent in agents or reference_agents(track):
        runs = Path(work) / track.name / agent
        config = track.reference_configs.get(agent)
        run_on_track(track, agent, runs, agent_config=config, on_evaluation=on_evaluation)
        submission = load_submission([runs])
        verification = verify(submission, track)
        if on_entry is not None:
            on_entry(agent, verification.report)
        if not verification.accepted:
            raise RuntimeError(f"{track.name}/{agent}: {verification.report.summary()}")
        folder = Path(out) / track.name / agent
        shutil.rmtree(folder, ignore_errors=True)
        write_submission(submission, folder)
        report = json.dumps(verification.report.to_dict(), indent=2, sort_keys=True)
        (folder / "report.json").write_text(report + "\n", encoding="utf-8")
        folders.append(folder)
    return folders
