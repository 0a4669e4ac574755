"""Verification: untouched submissions pass; every kind of tampering is refused, and the
reason names the run, the line and the field."""

from __future__ import annotations

import pytest
from board_helpers import Lines, check, first, tampered

from leaderboard.submission import File, load_submission
from leaderboard.verify import verify


def test_untouched_submission_passes_every_check(tiny_live, live_submission) -> None:
    verification = verify(live_submission, tiny_live, sample_seed=0)
    report = verification.report
    assert verification.accepted, report.summary()
    assert [c.name for c in report.checks] == [
        "track", "schema", "header", "seeds", "evaluations", "retrain", "replay"
    ]  # fmt: skip
    assert all(c.status == "passed" for c in report.checks)
    assert report.facts["evaluations_checked"] == 20
    assert report.facts["retrained"] == 10  # incumbent + 1 sample per run
    assert report.facts["retrained_exact"] == 10  # same machine: bit-identical
    assert report.facts["replayed_proposals"] == 20
    assert verification.content_hash and len(verification.content_hash) == 64


def test_a_reward_changed(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[3]["reward"] += 0.01

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("evaluations", 4, "reward")
    assert rejection.run == live_submission.runs[0].name
    assert "recomputed by the env" in rejection.message


def test_a_validation_metric_changed_no_longer_gives_the_logged_reward(
    tiny_live, live_submission
) -> None:
    def edit(lines: Lines) -> None:
        lines[2]["metrics"]["accuracy"] = 0.999

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.line, rejection.field) == (3, "reward")


def test_an_incumbents_test_metric_inflated_is_caught_by_retraining(
    tiny_live, live_submission
) -> None:
    def edit(lines: Lines) -> None:
        footer = lines[-1]
        step = footer["incumbent"]["step"]
        lines[step + 1]["test_metrics"]["test_accuracy"] = 0.9999
        footer["incumbent"]["test_metrics"]["test_accuracy"] = 0.9999
        for entry in footer["pareto_front"]:
            if entry["step"] == step:
                entry["test_metrics"]["test_accuracy"] = 0.9999

    edited = tampered(live_submission, edit)
    assert check(tiny_live, edited).accepted  # nothing else can see it...
    rejection = first(check(tiny_live, edited, retrain=True, sample_seed=0))  # ...retraining can
    assert (rejection.check, rejection.field) == ("retrain", "test_metrics.test_accuracy")
    assert "retrained" in rejection.message and "tolerance" in rejection.message


def test_a_genome_changed(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        genome = lines[2]["genome"]
        genome[1] = (genome[1] + 1) % 5  # another width of the first hidden layer

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("evaluations", 3, "genome")


def test_an_architecture_changed(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[2]["architecture"]["layers"][0]["units"] += 1

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.line, rejection.field) == (3, "architecture")


def test_a_training_seed_changed(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[2]["seed"] += 1

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.line, rejection.field) == (3, "seed")
    assert "run seed" in rejection.message


def test_a_run_seed_changed_to_another_runs(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["seed"] = 0

    rejection = first(check(tiny_live, tampered(live_submission, edit, run=1)))
    assert (rejection.check, rejection.field) == ("seeds", "header.seed")
    assert "also the seed of" in rejection.message


def test_seeds_must_be_the_first_n(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["seed"] = 7

    verification = check(tiny_live, tampered(live_submission, edit, run=4))
    assert first(verification).check == "seeds" and "0..4" in first(verification).message


def test_too_few_seeds(tiny_live, live_submission) -> None:
    fewer = live_submission.model_copy(update={"runs": live_submission.runs[:4]})
    rejection = first(check(tiny_live, fewer))
    assert rejection.check == "seeds" and "at least 5" in rejection.message


def test_a_budget_overrun(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        extra = dict(lines[-2], step=lines[-2]["step"] + 1)
        lines.insert(-1, extra)
        lines[-1]["evaluations"] += 1

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("budget", 6, "step")
    assert "after the budget was spent" in rejection.message


def test_a_charge_changed(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[1]["spent"] = 0

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("budget", 2, "spent")


def test_a_run_cut_short_with_its_footer_rewritten(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        del lines[-2]
        lines[-1]["evaluations"] -= 1

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert rejection.check == "budget" and "budget left" in rejection.message


def test_a_truncated_log(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        del lines[-2:]  # the last evaluation and the footer: a killed run

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.field) == ("schema", "footer")
    assert "truncated" in rejection.message


def test_a_reordered_log(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[1], lines[2] = lines[2], lines[1]

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.run, rejection.line) == (live_submission.runs[0].name, 2)
    # the reader refuses steps out of order (schema); else the env's step numbers differ
    assert rejection.check in ("schema", "evaluations") and "step" in str(rejection)


def test_a_reordered_log_with_renumbered_steps_does_not_replay(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[1], lines[2] = lines[2], lines[1]
        lines[1]["step"], lines[2]["step"] = 0, 1
        for entry in [lines[-1]["incumbent"], *lines[-1]["pareto_front"]]:
            entry["step"] = {0: 1, 1: 0}.get(entry["step"], entry["step"])

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("replay", 2, "genome")


def test_an_agent_whose_replay_diverges(tiny_live, live_runs) -> None:
    """rea's runs (population 2) claim rea's default config (header and submission agree):
    rea with that config samples at random where the logged rea mutated its third proposal."""
    submission = load_submission([live_runs["rea"]], track="tiny-live")
    claimed: dict = {}

    def edit(lines: Lines) -> None:
        lines[0]["agent_config"] = claimed

    edited = submission.model_copy(
        update={"agent": submission.agent.model_copy(update={"config": claimed})}
    )
    for run in range(len(submission.runs)):
        edited = tampered(edited, edit, run=run)
    rejection = first(check(tiny_live, edited))
    assert (rejection.check, rejection.line, rejection.field) == ("replay", 4, "genome")
    assert "the agent proposes" in rejection.message
    assert check(tiny_live, submission).accepted  # as made, rea's runs replay


def test_a_data_hash_from_other_data(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["data_hash"] = "0" * 64

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert (rejection.check, rejection.line, rejection.field) == ("header", 1, "header.data_hash")


def test_a_version_the_board_does_not_accept(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["machine"]["darwin_bench"] = "0.0.9"

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert rejection.field == "header.machine.darwin_bench"


def test_other_env_kwargs(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["env_kwargs"]["epochs"] = 2

    rejection = first(check(tiny_live, tampered(live_submission, edit)))
    assert rejection.field == "header.env_kwargs.epochs"


def test_execution_kwargs_may_differ(tiny_live, live_submission) -> None:
    def edit(lines: Lines) -> None:
        lines[0]["env_kwargs"]["workers"] = 2

    assert check(tiny_live, tampered(live_submission, edit)).accepted


def test_another_track(tiny_live, live_submission) -> None:
    other = tiny_live.model_copy(update={"name": "other"})
    rejection = first(check(other, live_submission))
    assert (rejection.check, rejection.field) == ("track", "track")


@pytest.mark.parametrize("bad", ["not json", '{"type": "header"}'])
def test_broken_logs_are_schema_rejections(tiny_live, live_submission, bad) -> None:
    runs = [File(name="broken.jsonl", text=bad + "\n"), *live_submission.runs[1:]]
    rejection = first(check(tiny_live, live_submission.model_copy(update={"runs": runs})))
    assert rejection.check == "schema" and rejection.run == "broken.jsonl"
    assert "broken.jsonl" in rejection.message
