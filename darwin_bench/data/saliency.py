"""Visual-saliency data: procedural scenes with ground-truth masks, and a folder loader.

* :func:`generate_scenes` draws RGB scenes with one or more salient objects (ellipses, rotated
  rectangles, convex polygons) whose colour stands out from their surround, on cluttered
  backgrounds (gradients, stripes, smooth noise, low-contrast distractor shapes, pixel noise).
  Colours of objects and backgrounds are both drawn from the whole RGB cube, so no fixed colour
  threshold separates them: saliency is *contrast with the surround*, which a small conv net
  learns. Fully determined by the seed (a numpy ``Generator``), vectorised over scenes.
* :func:`load_saliency_folder` reads real sets laid out MSRA-B style
  (``root/images/*.jpg|*.png`` + ``root/masks/*.png``, matched by file stem).
* :func:`split` makes a deterministic train/val/test split.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from darwin_bench.hashing import data_hash

__all__ = [
    "IMAGE_SUFFIXES",
    "MASK_SUFFIXES",
    "SaliencySet",
    "generate_scenes",
    "load_saliency_folder",
    "split",
]

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png")
MASK_SUFFIXES: tuple[str, ...] = (".png",)

_MIN_SIZE = 16
_MAX_POLY_SIDES = 7
_OBJECT_MIN_CONTRAST = 0.35  # min RGB distance between an object's colour and what it covers
_DISTRACTOR_CONTRAST = 0.2  # max per-channel difference of a distractor from what it covers
_BG_SPREAD = 0.8  # max per-channel difference of the two background colours
_COLOUR_CANDIDATES = 16


@dataclass(frozen=True)
class SaliencySet:
    """Images with binary ground-truth saliency masks.

    Attributes:
        images: float32 ``N×3×H×W`` in ``[0, 1]``, read-only.
        masks: float32 ``N×1×H×W`` with values in ``{0, 1}``, read-only.
        sha256: :func:`darwin_bench.hashing.data_hash` of the images and the masks.
        name: Human-readable name (generator parameters or folder name).
    """

    images: np.ndarray
    masks: np.ndarray
    sha256: str
    name: str

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """Image height and width."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    @classmethod
    def from_arrays(cls, images: np.ndarray, masks: np.ndarray, name: str) -> SaliencySet:
        """Validate arrays, make them read-only float32 and hash them.

        Raises:
            ValueError: Wrong shapes or values outside ``[0, 1]`` / ``{0, 1}``.
        """
        imgs = np.ascontiguousarray(images, dtype=np.float32)
        msks = np.ascontiguousarray(masks, dtype=np.float32)
        if imgs.ndim != 4 or imgs.shape[1] != 3:
            raise ValueError(f"images must be N×3×H×W, got shape {imgs.shape}")
        expected = (imgs.shape[0], 1, *imgs.shape[2:])
        if msks.shape != expected:
            raise ValueError(f"masks must have shape {expected} to match images, got {msks.shape}")
        if imgs.size and (not np.all(np.isfinite(imgs)) or imgs.min() < 0 or imgs.max() > 1):
            raise ValueError("images must hold finite values in [0, 1]")
        if not np.all((msks == 0) | (msks == 1)):
            raise ValueError("masks must hold only the values 0 and 1")
        imgs.setflags(write=False)
        msks.setflags(write=False)
        return cls(images=imgs, masks=msks, sha256=data_hash(imgs, msks), name=name)


def _rotated(
    xs: np.ndarray, ys: np.ndarray, cx: np.ndarray, cy: np.ndarray, angle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates relative to centres, rotated by ``-angle``; params broadcast as (..., 1, 1)."""
    dx, dy = xs - cx[..., None, None], ys - cy[..., None, None]
    cos, sin = np.cos(angle)[..., None, None], np.sin(angle)[..., None, None]
    return dx * cos + dy * sin, -dx * sin + dy * cos


def _shapes(
    rng: np.random.Generator,
    xs: np.ndarray,
    ys: np.ndarray,
    n: int,
    slots: int,
    kinds: int,
    radius: tuple[float, float],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Boolean ``n×slots×H×W`` masks of random ellipses, rectangles and (if kinds=3) polygons.

    Also returns the shapes' centres ``(cx, cy)``, each ``n×slots`` in [0, 1].
    """
    f32 = np.float32
    kind = rng.integers(0, kinds, size=(n, slots))
    cx = rng.uniform(0.15, 0.85, size=(n, slots)).astype(f32)
    cy = rng.uniform(0.15, 0.85, size=(n, slots)).astype(f32)
    r = rng.uniform(*radius, size=(n, slots)).astype(f32)
    aspect = np.sqrt(rng.uniform(0.45, 2.2, size=(n, slots))).astype(f32)
    angle = rng.uniform(0.0, math.pi, size=(n, slots)).astype(f32)
    sides = rng.integers(4, _MAX_POLY_SIDES + 1, size=(n, slots))
    jitter = rng.uniform(-0.35, 0.35, size=(n, slots, _MAX_POLY_SIDES)).astype(f32)
    reach = rng.uniform(0.75, 1.1, size=(n, slots, _MAX_POLY_SIDES)).astype(f32)

    u, v = _rotated(xs, ys, cx, cy, angle)
    ra, rb = (r * aspect)[..., None, None], (r / aspect)[..., None, None]
    ellipse = (u / ra) ** 2 + (v / rb) ** 2 <= 1.0
    rectangle = (np.abs(u) <= 0.85 * ra) & (np.abs(v) <= 0.85 * rb)
    out = np.where((kind == 0)[..., None, None], ellipse, rectangle)
    if kinds > 2:
        # Convex polygon: intersection of half-planes with normals spread round the circle.
        polygon = np.ones_like(out)
        dx, dy = xs - cx[..., None, None], ys - cy[..., None, None]
        for k in range(_MAX_POLY_SIDES):
            step = (2.0 * math.pi / sides).astype(f32)
            phi = angle + step * (k + jitter[..., k])
            limit = np.where(k < sides, r * reach[..., k], f32(np.inf))[..., None, None]
            proj = dx * np.cos(phi)[..., None, None] + dy * np.sin(phi)[..., None, None]
            polygon &= proj <= limit
        out = np.where((kind == 2)[..., None, None], polygon, out)
    return out, (cx, cy)


def _smooth_noise(rng: np.random.Generator, n: int, size: int, cells: int) -> np.ndarray:
    """``n×size×size`` smooth noise in [0, 1]: a ``cells×cells`` grid, bilinearly upsampled."""
    grid = rng.uniform(0.0, 1.0, size=(n, cells + 1, cells + 1))
    pos = (np.arange(size) + 0.5) / size * cells
    i0 = np.minimum(pos.astype(int), cells - 1)
    f = (pos - i0)[None, :]
    rows = grid[:, i0, :] * (1 - f)[..., None] + grid[:, i0 + 1, :] * f[..., None]
    g = f[:, None, :]
    out: np.ndarray = rows[:, :, i0] * (1 - g) + rows[:, :, i0 + 1] * g
    return out


def _distinct_colours(rng: np.random.Generator, reference: np.ndarray) -> np.ndarray:
    """Colours (``n×slots×3``) at RGB distance >= the contrast threshold from ``reference``."""
    cand = rng.uniform(0.0, 1.0, size=(*reference.shape[:2], _COLOUR_CANDIDATES, 3))
    dist = np.linalg.norm(cand - reference[:, :, None, :], axis=-1)
    ok = dist >= _OBJECT_MIN_CONTRAST
    # First candidate far enough; if none is, the farthest one.
    pick = np.where(ok.any(axis=-1), ok.argmax(axis=-1), dist.argmax(axis=-1))
    out: np.ndarray = np.take_along_axis(cand, pick[..., None, None], axis=2)[:, :, 0, :]
    return out


def _footprint_colour(canvas: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Mean colour (``n×slots×3``) of ``canvas`` (``n×3×H×W``) under each shape."""
    n, slots = shapes.shape[:2]
    weights = shapes.reshape(n, slots, -1).astype(np.float32)
    sums = weights @ canvas.reshape(n, 3, -1).transpose(0, 2, 1)
    area = np.maximum(weights.sum(axis=-1, keepdims=True), 1.0)
    out: np.ndarray = sums / area
    return out


def _paint(canvas: np.ndarray, shapes: np.ndarray, colours: np.ndarray, active: np.ndarray) -> None:
    """Paint shapes (``n×slots×H×W``) with colour fields (``n×slots×3×H×W``) in slot order."""
    for s in range(shapes.shape[1]):
        where = (shapes[:, s] & active[:, s, None, None])[:, None]
        np.copyto(canvas, colours[:, s], where=where)


def generate_scenes(
    n: int,
    *,
    size: int = 32,
    seed: int = 0,
    max_objects: int = 3,
    max_distractors: int = 4,
    noise: float = 0.04,
) -> SaliencySet:
    """Procedurally generate saliency scenes with ground-truth masks.

    Each scene: a textured background (blend of a linear gradient, stripes and smooth noise
    between two random colours), up to ``max_distractors`` low-contrast shapes (colour within
    ±0.12 per channel of the background's mean colour; not salient), then 1..``max_objects``
    salient objects (ellipse, rotated rectangle or convex polygon) in a colour at RGB distance
    >= 0.45 from the background's mean colour, with mild shading; finally Gaussian pixel noise.
    The mask is the union of the salient objects (later objects may overlap earlier ones).

    Args:
        n: Number of scenes, >= 1.
        size: Image side in pixels, >= 16.
        seed: Seed of the numpy Generator; equal arguments give identical scenes.
        max_objects: Maximum salient objects per scene, >= 1.
        max_distractors: Maximum distractor shapes per scene, >= 0.
        noise: Standard deviation of the pixel noise, in [0, 0.5].

    Returns:
        A :class:`SaliencySet` named after the parameters.

    Raises:
        ValueError: Any argument out of range.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < _MIN_SIZE:
        raise ValueError(f"size must be an integer >= {_MIN_SIZE}, got {size!r}")
    if not isinstance(max_objects, (int, np.integer)) or max_objects < 1:
        raise ValueError(f"max_objects must be an integer >= 1, got {max_objects!r}")
    if not isinstance(max_distractors, (int, np.integer)) or max_distractors < 0:
        raise ValueError(f"max_distractors must be an integer >= 0, got {max_distractors!r}")
    if not (0.0 <= noise <= 0.5):
        raise ValueError(f"noise must lie in [0, 0.5], got {noise!r}")
    n, size = int(n), int(size)
    rng = np.random.default_rng(seed)
    f32 = np.float32
    coords = ((np.arange(size, dtype=np.float64) + 0.5) / size).astype(f32)
    ys, xs = coords[:, None], coords[None, :]

    def col(a: np.ndarray) -> np.ndarray:
        """``(n, k)`` -> ``(n, k, 1, 1)`` float32, to broadcast against ``H×W``."""
        return a.astype(f32)[..., None, None]

    # Background: two colours blended by a mix of gradient, stripes and smooth noise.
    c0 = rng.uniform(0.0, 1.0, size=(n, 3))
    c1 = np.clip(c0 + rng.uniform(-_BG_SPREAD, _BG_SPREAD, size=(n, 3)), 0.0, 1.0)
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
    smooth = _smooth_noise(rng, n, size, cells).astype(f32)
    weights = col(rng.dirichlet((1.0, 1.0, 1.0), size=n))
    t = weights[:, 0] * gradient + weights[:, 1] * stripes + weights[:, 2] * smooth
    canvas = col(c0) + col(c1 - c0) * t[:, None]

    # Low-contrast distractors: colour close to the background they cover.
    if max_distractors > 0:
        d_shapes, _ = _shapes(rng, xs, ys, n, max_distractors, 2, (0.06, 0.2))
        d_count = rng.integers(0, max_distractors + 1, size=(n, 1))
        d_active = np.arange(max_distractors)[None] < d_count
        delta = rng.uniform(-_DISTRACTOR_CONTRAST, _DISTRACTOR_CONTRAST, (n, max_distractors, 3))
        d_col = np.clip(_footprint_colour(canvas, d_shapes) + delta, 0.0, 1.0)
        d_field = np.broadcast_to(col(d_col), (*d_col.shape, size, size))
        _paint(canvas, d_shapes, d_field, d_active)

    # Salient objects: colour far from the background they cover, with mild linear shading.
    shapes, _ = _shapes(rng, xs, ys, n, max_objects, 3, (0.1, 0.26))
    count = 1 + np.minimum(rng.geometric(0.55, size=(n, 1)) - 1, max_objects - 1)
    active = np.arange(max_objects)[None] < count
    colours = _distinct_colours(rng, _footprint_colour(canvas, shapes))
    tilt = rng.uniform(0.0, 2.0 * math.pi, size=(n, max_objects))
    shade_amp = col(rng.uniform(0.0, 0.15, size=(n, max_objects)))
    shade = (xs * col(np.cos(tilt)) + ys * col(np.sin(tilt)) - f32(0.5)) * shade_amp
    field = col(colours) + shade[:, :, None]
    _paint(canvas, shapes, field, active)
    mask = np.any(shapes & active[..., None, None], axis=1, keepdims=True)

    if noise > 0:
        canvas += rng.standard_normal(size=canvas.shape, dtype=f32) * f32(noise)
    images = np.clip(canvas, 0.0, 1.0, out=canvas)
    name = f"scenes(n={n},size={size},seed={seed},objects<={max_objects})"
    return SaliencySet.from_arrays(images, mask, name)


def _collect(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in suffixes:
            continue
        if path.stem in found:
            raise ValueError(
                f"two files share the stem {path.stem!r}: {found[path.stem].name} and {path.name}"
            )
        found[path.stem] = path
    return found


def load_saliency_folder(root: Path, *, size: int | None = None) -> SaliencySet:
    """Load a real saliency set laid out as ``root/images/`` and ``root/masks/``.

    Images are ``*.jpg``, ``*.jpeg`` or ``*.png`` (any mode, converted to RGB); masks are
    ``*.png`` with the same file stem (converted to greyscale and binarised at 0.5, i.e. > 127).
    Masks without an image are ignored. Scenes are ordered by stem.

    Args:
        root: Dataset folder.
        size: If given, resize images (bilinear) and masks (bilinear, then binarised) to
            ``size×size``; if ``None``, all images must share one size.

    Returns:
        A :class:`SaliencySet` named after the folder.

    Raises:
        ValueError: Missing folders, no images, images without masks (named), stem clashes,
            mismatched sizes, or ``size < 1``.
    """
    from PIL import Image  # Pillow ships with matplotlib; imported lazily

    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be None or an integer >= 1, got {size!r}")
    root = Path(root)
    image_dir, mask_dir = root / "images", root / "masks"
    for folder in (image_dir, mask_dir):
        if not folder.is_dir():
            raise ValueError(f"root must contain images/ and masks/ folders; {folder} is missing")
    images = _collect(image_dir, IMAGE_SUFFIXES)
    if not images:
        raise ValueError(f"{image_dir} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    masks = _collect(mask_dir, MASK_SUFFIXES)
    missing = [images[stem].name for stem in images if stem not in masks]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" … ({len(missing)} in all)" if len(missing) > 10 else ""
        )
        raise ValueError(f"image(s) without a mask in {mask_dir}: {shown}")

    xs: list[np.ndarray] = []
    ms: list[np.ndarray] = []
    for stem in sorted(images):
        with Image.open(images[stem]) as im_file, Image.open(masks[stem]) as mask_file:
            img = im_file.convert("RGB")
            msk = mask_file.convert("L")
        if size is not None:
            img = img.resize((size, size), Image.Resampling.BILINEAR)
            msk = msk.resize((size, size), Image.Resampling.BILINEAR)
        elif img.size != msk.size:
            raise ValueError(
                f"{images[stem].name} is {img.size[0]}×{img.size[1]} but its mask "
                f"{masks[stem].name} is {msk.size[0]}×{msk.size[1]}; pass size= to resize"
            )
        x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
        if xs and x.shape != xs[0].shape:
            raise ValueError(
                f"{images[stem].name} has shape {x.shape[1:]} but earlier images have "
                f"{xs[0].shape[1:]}; pass size= to resize"
            )
        xs.append(x)
        ms.append((np.asarray(msk, dtype=np.float32)[None] / 255.0 > 0.5).astype(np.float32))
    return SaliencySet.from_arrays(np.stack(xs), np.stack(ms), root.name or str(root))


def split(
    data: SaliencySet,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 0,
) -> tuple[SaliencySet, ...]:
    """Split a set into disjoint parts by a seeded permutation.

    Part ``i`` gets the indices between ``round(N·sum(fractions[:i]))`` and
    ``round(N·sum(fractions[:i+1]))`` of the permutation, so parts cover the set exactly once.

    Args:
        data: The set to split.
        fractions: Positive fractions summing to 1 (e.g. train/val/test).
        seed: Seed of the permutation.

    Returns:
        One :class:`SaliencySet` per fraction, named ``"<name>[part i/k]"``.

    Raises:
        ValueError: Empty or non-positive fractions, a sum other than 1, or a part left empty.
    """
    fr = [float(f) for f in fractions]
    if not fr or any(not math.isfinite(f) or f <= 0 for f in fr):
        raise ValueError(f"fractions must be positive numbers, got {tuple(fractions)!r}")
    if not math.isclose(sum(fr), 1.0, abs_tol=1e-6):
        raise ValueError(f"fractions must sum to 1, got {tuple(fractions)!r} (sum {sum(fr)})")
    n = len(data)
    bounds = [round(n * c) for c in np.cumsum([0.0, *fr])]
    bounds[-1] = n
    if any(b1 <= b0 for b0, b1 in itertools.pairwise(bounds)):
        raise ValueError(f"fractions {tuple(fractions)!r} leave a part of a {n}-item set empty")
    order = np.random.default_rng(seed).permutation(n)
    k = len(fr)
    return tuple(
        SaliencySet.from_arrays(
            data.images[order[b0:b1]], data.masks[order[b0:b1]], f"{data.name}[part {i + 1}/{k}]"
        )
        for i, (b0, b1) in enumerate(itertools.pairwise(bounds))
    )
