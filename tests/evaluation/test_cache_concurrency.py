"""Two processes, and two runs, sharing one SQLite cache_path at the same time lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time

from cache_writers import write

from darwin_bench.evaluation import SQLiteCache
from darwin_bench.runlog import read_runlog


def test_two_processes_writing_at_once_lose_nothing(tmp_path) -> None:
    path = str(tmp_path / "cache.db")
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 15  # time for both to import and open the file
    writers = [context.Process(target=write, args=(path, w, 400, 100, start_at)) for w in (0, 1)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=600)
    assert [p.exitcode for p in writers] == [0, 0]
    cache = SQLiteCache(path)
    expected = {f"w{w}-{i}" for w in (0, 1) for i in range(400)} | {
        f"shared-{i}" for i in range(100)
    }
    assert set(cache.keys()) == expected and len(cache) == 900
    assert all(cache.get(k) is not None for k in expected)  # every record reads back


RUN = """
import json, sys
from baselines.runner import run_agent
r = run_agent("random", "darwin_bench/Digits-MLP-v0", budget=5, seed=int(sys.argv[1]),
              out_dir=sys.argv[2], env_kwargs=json.loads(sys.argv[3]))
print(r.path)
"""


def test_two_runs_sharing_a_cache_path_at_once_lose_nothing(tmp_path) -> None:
    cache = tmp_path / "shared.db"
    kwargs = json.dumps({"epochs": 1, "measure_latency": False, "cache_path": str(cache)})
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, str(seed), str(tmp_path / f"run{seed}"), kwargs],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (0, 1)
    ]
    logs = []
    for proc in runs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        logs.append(read_runlog(out.strip()))
    stored = set(SQLiteCache(cache).keys())
    for run in logs:
        assert run.complete and len(run.evaluations) == 5
        assert {e.evaluation_id for e in run.evaluations if e.ok} <= stored
