"""Medians of repeated evaluations (what ``darwin-bench bench-task`` prints)."""

from __future__ import annotations

import pytest

from darwin_bench.evaluation import Evaluation
from darwin_bench.evaluation.summary import summarize_evaluations


def _evaluation(i: int, accuracy: float, ok: bool = True) -> Evaluation:
    return Evaluation(
        f"{i:032d}",
        {},
        i,
        {"epochs": 1},
        status="ok" if ok else "failed",
        metrics={"accuracy": accuracy} if ok else {},
        test_metrics={"test_accuracy": accuracy - 0.1} if ok else {},
        costs={"flops": 100.0 * (i + 1), "synapses": 7.0} if ok else {},
        train_seconds=float(i),
        wall_seconds=float(i) + 1.0,
    )


def test_medians_over_ok_evaluations_and_seconds_over_all() -> None:
    runs = [_evaluation(0, 0.5), _evaluation(1, 0.9), _evaluation(2, 0.7), _evaluation(3, 0, False)]
    summary = summarize_evaluations(runs, "accuracy")
    assert summary["evaluations"] == 4 and summary["failed"] == 1
    assert summary["median_wall_seconds"] == 2.5 and summary["median_train_seconds"] == 1.5
    assert summary["accuracy"] == {"median": 0.7, "min": 0.5, "max": 0.9}
    assert summary["test_accuracy"]["median"] == pytest.approx(0.6)
    assert summary["cost_flops"] == 200.0 and "cost_synapses" not in summary


def test_refuses_no_evaluations() -> None:
    with pytest.raises(ValueError, match="evaluations"):
        summarize_evaluations([], "accuracy")
