"""Evaluation records, the population evaluator, its caches and executors."""

from __future__ import annotations

from darwin_bench.evaluation.cache import EvaluationCache, MemoryCache, SQLiteCache
from darwin_bench.evaluation.evaluator import EvalRequest, Evaluator, run_evaluation
from darwin_bench.evaluation.executors import Executor, ProcessPool, serial
from darwin_bench.evaluation.record import Evaluation

__all__ = [
    "EvalRequest",
    "Evaluation",
    "EvaluationCache",
    "Evaluator",
    "Executor",
    "MemoryCache",
    "ProcessPool",
    "SQLiteCache",
    "run_evaluation",
    "serial",
]
