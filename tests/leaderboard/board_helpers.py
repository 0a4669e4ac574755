"""Helpers of the leaderboard tests: tamper with a submission's run logs, check it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from leaderboard.submission import File, Submission
from leaderboard.tracks import Track
from leaderboard.verify import Verification, verify

Lines = list[dict[str, Any]]


def tampered(submission: Submission, edit: Callable[[Lines], None], run: int = 0) -> Submission:
    """``submission`` with run ``run``'s lines edited by ``edit`` (in place, as JSON dicts)."""
    runs = list(submission.runs)
    lines = [json.loads(line) for line in runs[run].text.splitlines()]
    edit(lines)
    text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    runs[run] = File(name=runs[run].name, text=text)
    return submission.model_copy(update={"runs": runs})


def first(verification: Verification) -> Any:
    assert not verification.accepted, "the tampered submission was accepted"
    return verification.report.rejections[0]


def check(track: Track, submission: Submission, **kwargs: Any) -> Verification:
    return verify(submission, track, retrain=kwargs.pop("retrain", False), **kwargs)
