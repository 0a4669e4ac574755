"""Object scenes: one object of a known class at a known place on a cluttered background.

Seed 004's specialization example trains a base network to *predict object position* and then
specializes it to *recognise objects*. :func:`generate_object_scenes` makes data for both: each
scene holds exactly one object whose class (its shape) and centre are returned with the image,
on the textured backgrounds and low-contrast distractors of the saliency scenes
(:mod:`darwin_bench.data.shapes`). Fully determined by the seed, vectorised over scenes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from darwin_bench.data import shapes

#: The default object classes (names of :data:`darwin_bench.data.shapes.SHAPE_KINDS`).
OBJECT_CLASSES: tuple[str, ...] = ("ellipse", "rectangle", "triangle", "cross", "ring")

_MIN_SIZE = 16


@dataclass(frozen=True)
class ObjectScenes:
    """Images, each with one object, its class and its centre.

    Attributes:
        images: float32 ``N×3×H×W`` in ``[0, 1]``.
        labels: int64 ``N``, the object's class as an index into ``classes``.
        positions: float32 ``N×2``, the object's centre ``(x, y)`` as fractions of the side.
        classes: class names, in label order.
        name: the generator's parameters.
    """

    images: np.ndarray
    labels: np.ndarray
    positions: np.ndarray
    classes: tuple[str, ...]
    name: str

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    out = tuple(classes)
    if len(out) < 2 or len(set(out)) != len(out) or not set(out) <= set(shapes.SHAPE_KINDS):
        raise ValueError(
            f"classes must be at least 2 distinct names from {list(shapes.SHAPE_KINDS)}; "
            f"got {list(classes)!r}"
        )
    return out


def generate_object_scenes(
    n: int,
    *,
    size: int = 32,
    seed: int = 0,
    classes: Sequence[str] = OBJECT_CLASSES,
    max_distractors: int = 4,
    noise: float = 0.04,
    radius: tuple[float, float] = (0.14, 0.26),
) -> ObjectScenes:
    """Generate scenes of one object each, with its class and centre.

    Each scene, in drawing order: a textured background, 0..``max_distractors`` low-contrast
    distractor shapes (as in :func:`darwin_bench.data.saliency.generate_scenes`), then one
    object of a class drawn uniformly from ``classes``, centred uniformly in
    ``[0.15, 0.85]²``, radius uniform in ``radius`` (fractions of the side), random rotation
    and aspect, in a colour that stands out from what it covers (RGB distance >= 0.35) with
    mild shading; finally Gaussian pixel noise of standard deviation ``noise``.

    Args:
        n: number of scenes, >= 1.
        size: image side in pixels, >= 16.
        seed: seed of the numpy Generator; equal arguments give identical scenes.
        classes: object classes, names from :data:`~darwin_bench.data.shapes.SHAPE_KINDS`.
        max_distractors: maximum distractor shapes per scene, >= 0.
        noise: standard deviation of the pixel noise, in [0, 0.5].
        radius: smallest and largest object radius, fractions of the side in (0, 0.5].

    Raises:
        ValueError: naming any argument out of range.
    """
    for name, value, low in (
        ("n", n, 1),
        ("size", size, _MIN_SIZE),
        ("max_distractors", max_distractors, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    names = _check_classes(classes)
    if not 0.0 <= noise <= 0.5:
        raise ValueError(f"noise must lie in [0, 0.5], got {noise!r}")
    if len(radius) != 2 or not 0.0 < radius[0] <= radius[1] <= 0.5:
        raise ValueError(f"radius must be (low, high) with 0 < low <= high <= 0.5; got {radius!r}")
    n, size = int(n), int(size)
    rng = np.random.default_rng(seed)
    canvas = shapes.background(rng, n, size)
    if max_distractors > 0:
        shapes.add_distractors(rng, canvas, int(max_distractors))
    draw = shapes.draw_shapes(rng, n, 1, len(names), (float(radius[0]), float(radius[1])))
    labels = draw.kind[:, 0].astype(np.int64)
    kinds = np.array([shapes.SHAPE_KINDS.index(c) for c in names])
    draw = dataclasses.replace(draw, kind=kinds[draw.kind])
    objects = shapes.rasterize(draw, *shapes.pixel_grid(size))
    shapes.paint_objects(rng, canvas, objects, np.ones((n, 1), dtype=bool))
    images = shapes.add_noise(rng, canvas, noise)
    positions = np.stack([draw.cx[:, 0], draw.cy[:, 0]], axis=1).astype(np.float32)
    label = f"objects(n={n},size={size},seed={seed},classes={','.join(names)})"
    return ObjectScenes(images, labels, positions, names, label)
