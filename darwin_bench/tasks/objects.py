"""The Objects task: recognise the one object in a generated scene, from few labels (seed 004).

Data: :func:`darwin_bench.data.objects.generate_object_scenes` (5 shape classes on cluttered
backgrounds), fully determined by ``data_seed``: the first ``labelled`` scenes are the
training split, the next ``val`` the validation split (what a search sees), the next ``test``
the test split. Labels are deliberately scarce by default (500 training images); unlabelled
scenes with object positions, for a pretext objective, come from :meth:`ObjectsTask.pretext`
(a separate stream of the same generator).

Inputs are normalized like the saliency task's: each image's mean colour subtracted, then
divided per channel by the labelled training split's standard deviation.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from darwin_bench.data.objects import OBJECT_CLASSES, generate_object_scenes
from darwin_bench.seeding import derive_seed
from darwin_bench.tasks.classification import ClassificationTask
from darwin_bench.tasks.pretext import PositionPretext
from darwin_bench.training import TrainConfig
from darwin_bench.validation import check_positive_int

#: Reward targets per cost: about a fifth of the 8-16-16 filter + 32-unit CNN base on 24×24 scenes
#: (0.75 MFLOPs, 8.5k parameters): what a user who wants a much smaller recogniser would ask for.
#: ``latency_ms``: the median ONNX Runtime latency of random networks (perf latency-targets).
TARGETS: dict[str, float] = {"flops": 1.5e5, "params": 2e3, "synapses": 2e3, "latency_ms": 0.14}


class ObjectsTask(ClassificationTask):
    """Classify the object of generated scenes (see the module docstring).

    Args:
        labelled: labelled training scenes.
        val: validation scenes (the search-facing ``accuracy``).
        test: test scenes (``test_accuracy``, reporting only).
        size: image side in pixels.
        data_seed: seed of the scene generator.
        classes: object classes (shape names).
        epochs: default training epochs (the fidelity).
        lr: Adam learning rate.
        batch_size: minibatch size.
        threads: torch threads while training (pinned for determinism).
        generator_kwargs: further arguments of :func:`generate_object_scenes` (``noise``,
            ``max_distractors``, ``radius``).
    """

    def __init__(
        self,
        *,
        labelled: int = 500,
        val: int = 500,
        test: int = 2000,
        size: int = 24,
        data_seed: int = 0,
        classes: Sequence[str] = OBJECT_CLASSES,
        epochs: int = 30,
        lr: float = 3e-3,
        batch_size: int = 64,
        threads: int = 1,
        generator_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        sizes = [check_positive_int(k, v) for k, v in (("labelled", labelled), ("val", val))]
        sizes.append(check_positive_int("test", test))
        self.scene_kwargs: dict[str, Any] = {
            "size": size,
            "classes": list(classes),
            **dict(generator_kwargs or {}),
        }
        self.data_seed = int(data_seed)
        scenes = generate_object_scenes(sum(sizes), seed=self.data_seed, **self.scene_kwargs)
        train = scenes.images[: sizes[0]]
        self.std = (self._centre(train).std(axis=(0, 2, 3), keepdims=True) + 1e-6).astype(
            np.float32
        )
        bounds = np.cumsum([0, *sizes])
        x, y = self.normalize(scenes.images), scenes.labels
        parts = [(x[a:b], y[a:b]) for a, b in itertools.pairwise(bounds)]
        super().__init__(
            "objects",
            *parts,
            num_classes=len(scenes.classes),
            train_config=TrainConfig(lr=lr, batch_size=batch_size),
            epochs=epochs,
            threads=threads,
            default_targets=TARGETS,
            classes=scenes.classes,
        )

    @staticmethod
    def _centre(images: np.ndarray) -> np.ndarray:
        out: np.ndarray = images - images.mean(axis=(2, 3), keepdims=True)
        return out

    def normalize(self, images: np.ndarray) -> np.ndarray:
        """Images as the networks see them: mean colour removed, divided by the train std."""
        out: np.ndarray = (self._centre(images) / self.std).astype(np.float32)
        return out

    def pretext(self, scenes: int) -> PositionPretext:
        """``scenes`` unlabelled scenes of the same generator (another seed stream) with their
        object positions, normalized like this task's inputs."""
        data = generate_object_scenes(
            check_positive_int("scenes", scenes),
            seed=derive_seed(self.data_seed, "pretext"),
            **self.scene_kwargs,
        )
        return PositionPretext(self.normalize(data.images), data.positions)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "scenes": self.scene_kwargs, "data_seed": self.data_seed}
