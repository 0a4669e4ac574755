from __future__ import annotations

import json

import pytest

from darwin_bench.evaluation import Evaluation
from darwin_bench.pareto import pareto_front
from darwin_bench.runlog import RunLog, read_runlog


def evaluation(i: int, score: float, cost: float, status: str = "ok") -> Evaluation:
    return Evaluation(
        evaluation_id=f"id{i}",
        architecture={"space": "mlp", "layers": [i]},
        seed=i,
        fidelity={"epochs": 1},
        status=status,  # type: ignore[arg-type]
        metrics={"accuracy": score},
        test_metrics={"test_accuracy": score - 0.01},
        costs={"flops": cost},
        reward=score - cost / 1000,
        objectives={"score": score, "cost": cost},
        genome=[i],
        step=i,
    )


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    evals = [
        evaluation(0, 0.8, 100),
        evaluation(1, 0.9, 300),
        evaluation(2, 0.7, 50),
        evaluation(3, 0.85, 400),
        evaluation(4, 0.0, 10, "failed"),
    ]
    with RunLog(path, {"env_id": "x", "seed": 3, "budget": 5}, cost="flops") as log:
        for e in evals:
            log.append(e)
        footer = log.close()
    run = read_runlog(path)
    assert run.complete and run.header["seed"] == 3 and "machine" in run.header
    assert [e.to_dict() for e in run.evaluations] == [e.to_dict() for e in evals]
    assert run.footer == footer
    assert footer["incumbent"]["evaluation_id"] == "id0"  # reward 0.8 - 0.1
    assert footer["incumbent"]["test_metrics"] == {"test_accuracy": pytest.approx(0.79)}
    assert [p["evaluation_id"] for p in footer["pareto_front"]] == ["id2", "id0", "id1"]
    assert footer["pareto_front"][0]["test_metrics"] == {"test_accuracy": pytest.approx(0.69)}
    assert footer["failed"] == 1
    assert run.header["format"] == "darwin_bench.runlog/2"


def test_format_1_logs_are_read_with_test_metrics_moved(tmp_path) -> None:
    """A log written before test metrics had their own field reads as a /2 log."""
    old = evaluation(0, 0.8, 100).to_dict()
    old["metrics"] = {"accuracy": 0.8, "test_accuracy": 0.79, "test_loss": 0.5}
    del old["test_metrics"]
    footer = {
        "type": "footer",
        "incumbent": {"evaluation_id": "id0", "metrics": dict(old["metrics"])},
        "pareto_front": [{"evaluation_id": "id0", "score": 0.8, "test_accuracy": 0.79}],
    }
    lines = [{"type": "header", "format": "darwin_bench.runlog/1"}, {"type": "evaluation", **old}]
    path = tmp_path / "v1.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in [*lines, footer]))
    run = read_runlog(path)
    (e,) = run.evaluations
    assert e.metrics == {"accuracy": 0.8}
    assert e.test_metrics == {"test_accuracy": 0.79, "test_loss": 0.5}
    assert run.footer is not None
    assert run.footer["incumbent"]["metrics"] == {"accuracy": 0.8}
    assert run.footer["incumbent"]["test_metrics"] == {"test_accuracy": 0.79, "test_loss": 0.5}
    assert run.footer["pareto_front"][0]["test_metrics"] == {"test_accuracy": 0.79}
    assert "test_accuracy" not in run.footer["pareto_front"][0]


def test_resuming_a_format_1_log_rewrites_it_as_format_2(tmp_path) -> None:
    old = evaluation(0, 0.8, 100).to_dict()
    old["metrics"] = {"accuracy": 0.8, "test_accuracy": 0.79}
    del old["test_metrics"]
    path = tmp_path / "v1.jsonl"
    header = {"type": "header", "format": "darwin_bench.runlog/1", "seed": 0}
    path.write_text(json.dumps(header) + "\n" + json.dumps({"type": "evaluation", **old}) + "\n")
    RunLog(path, {"seed": 0}, cost="flops", append=True)._file.close()  # rewritten on opening
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["format"] == "darwin_bench.runlog/2"
    assert lines[1]["metrics"] == {"accuracy": 0.8}
    assert lines[1]["test_metrics"] == {"test_accuracy": 0.79}


def test_unknown_format_is_refused(tmp_path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "header", "format": "darwin_bench.runlog/9"}\n')
    with pytest.raises(ValueError, match="format 'darwin_bench.runlog/9' is not one"):
        read_runlog(path)


def test_every_line_is_on_disk_before_close(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    log = RunLog(path, {"seed": 0}, cost="flops")
    log.append(evaluation(0, 0.5, 10))
    lines = path.read_text().splitlines()  # read while the log is still open
    assert [json.loads(x)["type"] for x in lines] == ["header", "evaluation"]
    log.close()


def test_torn_last_line_is_ignored_and_resume_rewrites_it(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    log = RunLog(path, {"seed": 0}, cost="flops")
    log.append(evaluation(0, 0.5, 10))
    log.append(evaluation(1, 0.6, 10))
    log._file.close()
    text = path.read_text()
    path.write_text(text[:-20])  # a killed writer left half a line
    run = read_runlog(path)
    assert len(run.evaluations) == 1 and not run.complete
    resumed = RunLog(path, {"seed": 99}, cost="flops", append=True)
    assert resumed.header["seed"] == 0  # the original header is kept
    assert resumed.resumed_from == 1
    resumed.append(evaluation(0, 0.5, 10))  # the resumed agent replays its first evaluation
    assert len(path.read_text().splitlines()) == 2  # checked against the log, not rewritten
    resumed.append(evaluation(1, 0.6, 10))
    resumed.close()
    run = read_runlog(path)
    assert [e.evaluation_id for e in run.evaluations] == ["id0", "id1"] and run.complete


def test_resume_that_does_not_replay_the_log_is_refused(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    log = RunLog(path, {"seed": 0}, cost="flops")
    log.append(evaluation(0, 0.5, 10))
    log._file.close()
    resumed = RunLog(path, {"seed": 0}, cost="flops", append=True)
    with pytest.raises(ValueError, match="evaluation 0 is id7 .* but the log holds id0"):
        resumed.append(evaluation(7, 0.5, 10))
    resumed = RunLog(path, {"seed": 0}, cost="flops", append=True)
    with pytest.raises(ValueError, match="stopped after 0 of the 1 logged evaluations"):
        resumed.close()
    assert len(read_runlog(path).evaluations) == 1  # nothing lost


def test_a_new_log_appears_with_its_header(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    RunLog(path, {"seed": 0}, cost="flops")._file.close()
    assert read_runlog(path).header["seed"] == 0
    assert not list(tmp_path.glob("*.tmp"))


def test_not_a_runlog(tmp_path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "evaluation"}\n')
    with pytest.raises(ValueError, match="not a darwin_bench run log"):
        read_runlog(path)


def test_pareto_front() -> None:
    points = [(0.9, 10.0), (0.8, 5.0), (0.85, 20.0), (0.95, 30.0), (0.9, 10.0)]
    assert pareto_front(points) == [1, 0, 3]
