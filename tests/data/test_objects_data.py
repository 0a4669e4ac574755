"""Object scenes: one object of a known class at a known place; the shape kinds rasterise as
documented."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from darwin_bench.data import shapes
from darwin_bench.data.objects import OBJECT_CLASSES, generate_object_scenes


@pytest.fixture(scope="module")
def scenes():
    return generate_object_scenes(600, seed=0)


def test_layout_labels_and_positions(scenes) -> None:
    assert scenes.images.shape == (600, 3, 32, 32) and scenes.images.dtype == np.float32
    assert scenes.images.min() >= 0.0 and scenes.images.max() <= 1.0
    assert scenes.labels.dtype == np.int64 and scenes.classes == OBJECT_CLASSES
    counts = np.bincount(scenes.labels, minlength=len(OBJECT_CLASSES))
    assert counts.min() > 80  # every class occurs, about uniformly (600 / 5 = 120)
    assert scenes.positions.shape == (600, 2)
    assert scenes.positions.min() >= 0.15 and scenes.positions.max() <= 0.85
    assert len(scenes) == 600 and "seed=0" in scenes.name


def test_the_object_stands_out_where_it_is_said_to_be(scenes) -> None:
    # Pixel colour distance from the image's median colour peaks near the stated centre: the
    # position labels describe the images.
    median = np.median(scenes.images, axis=(2, 3), keepdims=True)
    contrast = np.linalg.norm(scenes.images - median, axis=1)
    ys, xs = np.mgrid[0:32, 0:32]
    cx, cy = scenes.positions[:, 0] * 32 - 0.5, scenes.positions[:, 1] * 32 - 0.5
    near = ((xs - cx[:, None, None]) ** 2 + (ys - cy[:, None, None]) ** 2) <= 4.0**2
    inside = (contrast * near).sum(axis=(1, 2)) / near.sum(axis=(1, 2))
    outside = (contrast * ~near).sum(axis=(1, 2)) / (~near).sum(axis=(1, 2))
    assert np.mean(inside > outside) > 0.9


def test_deterministic_and_seed_dependent() -> None:
    a, b = generate_object_scenes(20, seed=3), generate_object_scenes(20, seed=3)
    c = generate_object_scenes(20, seed=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)


def test_class_subsets_label_in_their_own_order() -> None:
    scenes = generate_object_scenes(50, seed=1, classes=("ring", "cross"))
    assert scenes.classes == ("ring", "cross") and set(scenes.labels.tolist()) == {0, 1}


def test_shape_kinds_rasterise_as_documented() -> None:
    xs, ys = shapes.pixel_grid(33)
    draw = shapes.draw_shapes(np.random.default_rng(0), 1, 6, 1, (0.3, 0.3))
    centred = dataclasses.replace(
        draw,
        kind=np.arange(6)[None],
        cx=np.full((1, 6), 0.5, np.float32),
        cy=np.full((1, 6), 0.5, np.float32),
        aspect=np.ones((1, 6), np.float32),
        angle=np.zeros((1, 6), np.float32),
    )
    masks = shapes.rasterize(centred, xs, ys)[0]
    ellipse, rectangle, _, triangle, cross, ring = masks
    assert ellipse[16, 16] and not ring[16, 16]  # a ring has a hole
    assert ring.sum() < ellipse.sum() and (ring & ~ellipse).sum() == 0
    assert rectangle[16 + 7, 16 + 7] and not cross[16 + 7, 16 + 7]  # a cross has no corners
    assert cross[16, 16 + 8] and cross[16 + 8, 16]  # but arms along both axes
    assert triangle[16, 16] and 0 < triangle.sum() < rectangle.sum()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 0}, "n"),
        ({"n": 2, "size": 8}, "size"),
        ({"n": 2, "classes": ("ellipse",)}, "classes"),
        ({"n": 2, "classes": ("ellipse", "blob")}, "classes"),
        ({"n": 2, "noise": 0.7}, "noise"),
        ({"n": 2, "radius": (0.3, 0.2)}, "radius"),
        ({"n": 2, "max_distractors": -1}, "max_distractors"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(ValueError, match=f"^{field} must"):
        generate_object_scenes(n, **kwargs)
