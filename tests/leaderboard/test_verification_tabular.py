"""Tabular tracks: every logged evaluation is checked against the table, exactly."""

from __future__ import annotations

from board_helpers import Lines, check, first, tampered

from leaderboard.verify import verify


def test_untouched_tabular_submission_passes(tiny_tab, tab_submission) -> None:
    verification = verify(tab_submission, tiny_tab)
    assert verification.accepted, verification.report.summary()
    statuses = {c.name: c.status for c in verification.report.checks}
    assert statuses["retrain"] == "skipped" and statuses["evaluations"] == "passed"
    assert verification.report.facts["evaluations_checked"] == 60


def test_a_metric_changed_is_not_the_tables(tiny_tab, tab_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[2]["metrics"]["accuracy"] += 0.001

    rejection = first(check(tiny_tab, tampered(tab_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == (
        "evaluations",
        3,
        "metrics.accuracy",
    )
    assert "the table" in rejection.message


def test_a_test_metric_changed_is_not_the_tables(tiny_tab, tab_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[4]["test_metrics"]["test_accuracy"] = 1.0

    rejection = first(check(tiny_tab, tampered(tab_submission, edit)))
    assert (rejection.line, rejection.field) == (5, "test_metrics.test_accuracy")


def test_a_cost_changed_is_not_the_tables(tiny_tab, tab_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[2]["costs"]["params"] -= 1

    rejection = first(check(tiny_tab, tampered(tab_submission, edit)))
    assert (rejection.line, rejection.field) == (3, "costs.params")


def test_a_table_hash_from_another_version(tiny_tab, tab_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["problem"]["table"]["content_hash"] = "f" * 64

    rejection = first(check(tiny_tab, tampered(tab_submission, edit, run=3)))
    assert (rejection.check, rejection.line) == ("header", 1)
    assert rejection.field == "header.problem.table.content_hash"
    assert rejection.run == tab_submission.runs[3].name
