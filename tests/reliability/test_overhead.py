"""``darwin-bench reliability workers``: the time limit's cost per evaluation, measured."""

from __future__ import annotations

import json

from darwin_bench.cli import main


def test_worker_overhead_is_measured(capsys) -> None:
    assert main(["reliability", "workers", "--evaluations", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluations"] == 2 and report["env"] == "darwin_bench/Digits-MLP-v0"
    assert report["in_process_seconds"] > 0 and report["worker_seconds"] > 0
    assert report["worker_startup_seconds"] > 0
    assert {"overhead_seconds", "overhead_fraction", "load_average_1min"} <= set(report)
