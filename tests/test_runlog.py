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
        metrics={"accuracy": score, "test_accuracy": score - 0.01},
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
    assert [p["evaluation_id"] for p in footer["pareto_front"]] == ["id2", "id0", "id1"]
    assert footer["failed"] == 1


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
    resumed.append(evaluation(1, 0.6, 10))
    resumed.close()
    run = read_runlog(path)
    assert [e.evaluation_id for e in run.evaluations] == ["id0", "id1"] and run.complete


def test_not_a_runlog(tmp_path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "evaluation"}\n')
    with pytest.raises(ValueError, match="not a darwin_bench run log"):
        read_runlog(path)


def test_pareto_front() -> None:
    points = [(0.9, 10.0), (0.8, 5.0), (0.85, 20.0), (0.95, 30.0), (0.9, 10.0)]
    assert pareto_front(points) == [1, 0, 3]
