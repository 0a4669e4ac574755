"""Tasks: the building blocks of standardized learning problems."""

from __future__ import annotations

from darwin_bench.tasks.base import LearningCurve, Task, TaskResult, TrainingDiverged
from darwin_bench.tasks.classification import ClassificationTask
from darwin_bench.tasks.digits import DigitsTask
from darwin_bench.tasks.plugins import from_arrays, from_gym

__all__ = [
    "ClassificationTask",
    "DigitsTask",
    "LearningCurve",
    "Task",
    "TaskResult",
    "TrainingDiverged",
    "from_arrays",
    "from_gym",
]
