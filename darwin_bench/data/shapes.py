"""Building blocks of the procedural scenes: random shapes, textured backgrounds, painting.

Both scene generators use them: :func:`darwin_bench.data.saliency.generate_scenes` (salient
objects with masks, seed 000) and :func:`darwin_bench.data.objects.generate_object_scenes`
(one object of a known class at a known place, seed 004). Everything is vectorised over
scenes: arrays are ``n×...`` and a scene's pixels are ``H×W`` float32 coordinates in ``[0, 1]``.

Each drawing function consumes the numpy ``Generator`` in a fixed order, so a generator's
output is a pure function of its seed; changing the order changes every scene (and the data
hashes of the tasks built on them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

f32 = np.float32

#: Shape kinds a mask can be rasterised as (index = the kind number used in arrays).
SHAPE_KINDS: tuple[str, ...] = ("ellipse", "rectangle", "polygon", "triangle", "cross", "ring")

MAX_POLY_SIDES = 7
OBJECT_MIN_CONTRAST = 0.35  # min RGB distance between an object's colour and what it covers
DISTRACTOR_CONTRAST = 0.2  # max per-channel difference of a distractor from what it covers
BG_SPREAD = 0.8  # max per-channel difference of a background's two colours
COLOUR_CANDIDATES = 16  # colours tried per object to find one far enough from its surround
SHADE_MAX = 0.15  # max amplitude of an object's linear shading
_CROSS_ARM = 0.3  # half-width of a cross's arms, relative to the shape's radius
_RING_HOLE = 0.55  # a ring's hole, relative to its outer ellipse
_TRIANGLE_INRADIUS = 0.6  # distance of a triangle's sides from its centre, relative to the radius


def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(xs, ys)`` in ``[0, 1]``, shaped ``1×size`` and ``size×1``."""
    coords = ((np.arange(size, dtype=np.float64) + 0.5) / size).astype(f32)
    return coords[None, :], coords[:, None]


def col(a: np.ndarray) -> np.ndarray:
    """``(n, k)`` -> ``(n, k, 1, 1)`` float32, to broadcast against ``H×W``."""
    return a.astype(f32)[..., None, None]


@dataclass(frozen=True)
class ShapeDraw:
    """Random parameters of ``n×slots`` shapes (every array ``n×slots``, polygon ones ``×7``).

    Attributes:
        kind: index into :data:`SHAPE_KINDS`.
        cx, cy: centre, in ``[0.15, 0.85]``.
        r: radius (before the aspect stretch).
        aspect: square root of the width/height ratio.
        angle: rotation in radians.
        sides: sides of a ``polygon`` (4..7).
        jitter: per-side angular jitter of polygons (``polygon`` and ``triangle``).
        reach: per-side distance of polygons' sides, relative to ``r``.
    """

    kind: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    r: np.ndarray
    aspect: np.ndarray
    angle: np.ndarray
    sides: np.ndarray
    jitter: np.ndarray
    reach: np.ndarray


def draw_shapes(
    rng: np.random.Generator, n: int, slots: int, kinds: int, radius: tuple[float, float]
) -> ShapeDraw:
    """Draw ``n×slots`` shapes whose kind is uniform over the first ``kinds`` kinds."""
    kind = rng.integers(0, kinds, size=(n, slots))
    cx = rng.uniform(0.15, 0.85, size=(n, slots)).astype(f32)
    cy = rng.uniform(0.15, 0.85, size=(n, slots)).astype(f32)
    r = rng.uniform(*radius, size=(n, slots)).astype(f32)
    aspect = np.sqrt(rng.uniform(0.45, 2.2, size=(n, slots))).astype(f32)
    angle = rng.uniform(0.0, math.pi, size=(n, slots)).astype(f32)
    sides = rng.integers(4, MAX_POLY_SIDES + 1, size=(n, slots))
    jitter = rng.uniform(-0.35, 0.35, size=(n, slots, MAX_POLY_SIDES)).astype(f32)
    reach = rng.uniform(0.75, 1.1, size=(n, slots, MAX_POLY_SIDES)).astype(f32)
    return ShapeDraw(kind, cx, cy, r, aspect, angle, sides, jitter, reach)


def _rotated(
    xs: np.ndarray, ys: np.ndarray, cx: np.ndarray, cy: np.ndarray, angle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates relative to centres, rotated by ``-angle``; params broadcast as (..., 1, 1)."""
    dx, dy = xs - cx[..., None, None], ys - cy[..., None, None]
    cos, sin = np.cos(angle)[..., None, None], np.sin(angle)[..., None, None]
    return dx * cos + dy * sin, -dx * sin + dy * cos


def _polygon(
    xs: np.ndarray,
    ys: np.ndarray,
    s: ShapeDraw,
    sides: np.ndarray,
    jitter: np.ndarray,
    reach: np.ndarray,
) -> np.ndarray:
    """Convex polygons: intersections of half-planes with normals spread round the circle.

    Side ``k`` of a ``sides``-gon has its normal at ``angle + 2π/sides · (k + jitter[k])`` and
    lies ``reach[k]`` from the centre (absolute units).
    """
    out = np.ones((*s.kind.shape, ys.shape[0], xs.shape[1]), dtype=bool)
    dx, dy = xs - s.cx[..., None, None], ys - s.cy[..., None, None]
    for k in range(MAX_POLY_SIDES):
        step = (2.0 * math.pi / sides).astype(f32)
        phi = s.angle + step * (k + jitter[..., k])
        limit = np.where(k < sides, reach[..., k], f32(np.inf))[..., None, None]
        proj = dx * np.cos(phi)[..., None, None] + dy * np.sin(phi)[..., None, None]
        out &= proj <= limit
    return out


def rasterize(s: ShapeDraw, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Boolean ``n×slots×H×W`` masks of the drawn shapes (see :data:`SHAPE_KINDS`).

    Only the kinds that occur are computed. A ``triangle`` is a polygon of 3 sides at
    :data:`_TRIANGLE_INRADIUS` times the radius, with a third of the polygons' angular
    jitter; a ``cross`` has arms along the rotated axes; a ``ring`` is the ellipse without an
    inner ellipse of :data:`_RING_HOLE` its size.
    """
    u, v = _rotated(xs, ys, s.cx, s.cy, s.angle)
    ra, rb = (s.r * s.aspect)[..., None, None], (s.r / s.aspect)[..., None, None]
    ellipse = (u / ra) ** 2 + (v / rb) ** 2 <= 1.0
    rectangle = (np.abs(u) <= 0.85 * ra) & (np.abs(v) <= 0.85 * rb)
    out = np.where((s.kind == 0)[..., None, None], ellipse, rectangle)
    present = set(np.unique(s.kind).tolist())
    if 2 in present:
        polygon = _polygon(xs, ys, s, s.sides, s.jitter, s.r[..., None] * s.reach)
        out = np.where((s.kind == 2)[..., None, None], polygon, out)
    if 3 in present:
        inradius = np.broadcast_to(_TRIANGLE_INRADIUS * s.r[..., None], s.reach.shape)
        three = np.full_like(s.sides, 3)
        triangle = _polygon(xs, ys, s, three, s.jitter / 3, inradius)
        out = np.where((s.kind == 3)[..., None, None], triangle, out)
    if 4 in present:
        arm = _CROSS_ARM * s.r[..., None, None]
        cross = ((np.abs(u) <= arm) & (np.abs(v) <= ra)) | ((np.abs(v) <= arm) & (np.abs(u) <= ra))
        out = np.where((s.kind == 4)[..., None, None], cross, out)
    if 5 in present:
        hole = (u / (_RING_HOLE * ra)) ** 2 + (v / (_RING_HOLE * rb)) ** 2 <= 1.0
        out = np.where((s.kind == 5)[..., None, None], ellipse & ~hole, out)
    return out


def smooth_noise(rng: np.random.Generator, n: int, size: int, cells: int) -> np.ndarray:
    """``n×size×size`` smooth noise in [0, 1]: a ``cells×cells`` grid, bilinearly upsampled."""
    grid = rng.uniform(0.0, 1.0, size=(n, cells + 1, cells + 1))
    pos = (np.arange(size) + 0.5) / size * cells
    i0 = np.minimum(pos.astype(int), cells - 1)
    f = (pos - i0)[None, :]
    rows = grid[:, i0, :] * (1 - f)[..., None] + grid[:, i0 + 1, :] * f[..., None]
    g = f[:, None, :]
    out: np.ndarray = rows[:, :, i0] * (1 - g) + rows[:, :, i0 + 1] * g
    return out


def background(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``n×3×H×W`` textured backgrounds: two random colours (each channel of the second within
    :data:`BG_SPREAD` of the first) blended by a random mix of a linear gradient, stripes
    (2-7 periods per image) and smooth noise."""
    xs, ys = pixel_grid(size)
    c0 = rng.uniform(0.0, 1.0, size=(n, 3))
    c1 = np.clip(c0 + rng.uniform(-BG_SPREAD, BG_SPREAD, size=(n, 3)), 0.0, 1.0)
    theta = rng.uniform(0.0, 2.0 * math.pi, size=(n, 2))
    proj = xs * col(np.cos(theta)) + ys * col(np.sin(theta))
    lo = proj[:, 0].min(axis=(1, 2), keepdims=True)
    gradient = (proj[:, 0] - lo) / (proj[:, 0].max(axis=(1, 2), keepdims=True) - lo + 1e-6)
    freq = rng.uniform(2.0, 7.0, size=(n, 1))
    phase = rng.uniform(0.0, 2.0 * math.pi, size=(n, 1))
    stripes = 0.5 + 0.5 * np.sin(
        f32(2.0 * math.pi) * col(freq)[:, 0] * proj[:, 1] + col(phase)[:, 0]
    )
    cells = int(rng.integers(3, 7))
    smooth = smooth_noise(rng, n, size, cells).astype(f32)
    weights = col(rng.dirichlet((1.0, 1.0, 1.0), size=n))
    t = weights[:, 0] * gradient + weights[:, 1] * stripes + weights[:, 2] * smooth
    out: np.ndarray = col(c0) + col(c1 - c0) * t[:, None]
    return out


def footprint_colour(canvas: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Mean colour (``n×slots×3``) of ``canvas`` (``n×3×H×W``) under each shape."""
    n, slots = shapes.shape[:2]
    weights = shapes.reshape(n, slots, -1).astype(f32)
    sums = weights @ canvas.reshape(n, 3, -1).transpose(0, 2, 1)
    area = np.maximum(weights.sum(axis=-1, keepdims=True), 1.0)
    out: np.ndarray = sums / area
    return out


def distinct_colours(rng: np.random.Generator, reference: np.ndarray) -> np.ndarray:
    """Colours (``n×slots×3``) at RGB distance >= :data:`OBJECT_MIN_CONTRAST` from
    ``reference``: the first of :data:`COLOUR_CANDIDATES` uniform draws far enough, else the
    farthest."""
    cand = rng.uniform(0.0, 1.0, size=(*reference.shape[:2], COLOUR_CANDIDATES, 3))
    dist = np.linalg.norm(cand - reference[:, :, None, :], axis=-1)
    ok = dist >= OBJECT_MIN_CONTRAST
    pick = np.where(ok.any(axis=-1), ok.argmax(axis=-1), dist.argmax(axis=-1))
    out: np.ndarray = np.take_along_axis(cand, pick[..., None, None], axis=2)[:, :, 0, :]
    return out


def paint(canvas: np.ndarray, shapes: np.ndarray, colours: np.ndarray, active: np.ndarray) -> None:
    """Paint shapes (``n×slots×H×W``) with colour fields (``n×slots×3×H×W``) in slot order."""
    for s in range(shapes.shape[1]):
        where = (shapes[:, s] & active[:, s, None, None])[:, None]
        np.copyto(canvas, colours[:, s], where=where)


def add_distractors(rng: np.random.Generator, canvas: np.ndarray, most: int) -> None:
    """Paint 0..``most`` ellipses or rectangles (radius 0.06-0.2) per scene, each in the mean
    colour of what it covers shifted by at most :data:`DISTRACTOR_CONTRAST` per channel."""
    n, size = canvas.shape[0], canvas.shape[-1]
    shapes = rasterize(draw_shapes(rng, n, most, 2, (0.06, 0.2)), *pixel_grid(size))
    count = rng.integers(0, most + 1, size=(n, 1))
    active = np.arange(most)[None] < count
    delta = rng.uniform(-DISTRACTOR_CONTRAST, DISTRACTOR_CONTRAST, (n, most, 3))
    colours = np.clip(footprint_colour(canvas, shapes) + delta, 0.0, 1.0)
    paint(canvas, shapes, np.broadcast_to(col(colours), (*colours.shape, size, size)), active)


def paint_objects(
    rng: np.random.Generator, canvas: np.ndarray, shapes: np.ndarray, active: np.ndarray
) -> None:
    """Paint objects in colours that stand out from what they cover, with mild shading.

    Each colour is :func:`distinct_colours` of the shape's footprint on ``canvas``; a linear
    shading of random direction and amplitude up to :data:`SHADE_MAX` is added across it.
    """
    n, slots, size = shapes.shape[0], shapes.shape[1], shapes.shape[-1]
    xs, ys = pixel_grid(size)
    colours = distinct_colours(rng, footprint_colour(canvas, shapes))
    tilt = rng.uniform(0.0, 2.0 * math.pi, size=(n, slots))
    shade_amp = col(rng.uniform(0.0, SHADE_MAX, size=(n, slots)))
    shade = (xs * col(np.cos(tilt)) + ys * col(np.sin(tilt)) - f32(0.5)) * shade_amp
    paint(canvas, shapes, col(colours) + shade[:, :, None], active)


def add_noise(rng: np.random.Generator, canvas: np.ndarray, noise: float) -> np.ndarray:
    """Add Gaussian pixel noise of standard deviation ``noise`` and clip to [0, 1], in place."""
    if noise > 0:
        canvas += rng.standard_normal(size=canvas.shape, dtype=f32) * f32(noise)
    out: np.ndarray = np.clip(canvas, 0.0, 1.0, out=canvas)
    return out
