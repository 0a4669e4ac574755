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

from darwin_bench.data import shapes
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
_OBJECT_RADIUS = (0.1, 0.26)  # radius range of salient objects, relative to the image side


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


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


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

    Each scene, in drawing order (:mod:`darwin_bench.data.shapes` has the building blocks):

    1. a textured background: two random colours blended by a mix of a linear gradient,
       stripes and smooth noise;
    2. 0..``max_distractors`` low-contrast ellipses or rectangles, each in the mean colour of
       what it covers shifted by at most 0.2 per channel (not salient);
    3. 1..``max_objects`` salient objects (ellipse, rotated rectangle or convex polygon, radius
       0.1-0.26 of the side; the count is geometric with p = 0.55, capped), each in a colour at
       RGB distance >= 0.35 from the mean colour of what it covers, with a linear shading of
       amplitude <= 0.15;
    4. Gaussian pixel noise of standard deviation ``noise``, then clipping to [0, 1].

    The mask is the union of the salient objects (later objects may cover earlier ones).

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
    n = _check_int("n", n, 1)
    size = _check_int("size", size, _MIN_SIZE)
    max_objects = _check_int("max_objects", max_objects, 1)
    max_distractors = _check_int("max_distractors", max_distractors, 0)
    if not (0.0 <= noise <= 0.5):
        raise ValueError(f"noise must lie in [0, 0.5], got {noise!r}")
    rng = np.random.default_rng(seed)
    canvas = shapes.background(rng, n, size)
    if max_distractors > 0:
        shapes.add_distractors(rng, canvas, max_distractors)
    draw = shapes.draw_shapes(rng, n, max_objects, 3, _OBJECT_RADIUS)
    objects = shapes.rasterize(draw, *shapes.pixel_grid(size))
    count = 1 + np.minimum(rng.geometric(0.55, size=(n, 1)) - 1, max_objects - 1)
    active = np.arange(max_objects)[None] < count
    shapes.paint_objects(rng, canvas, objects, active)
    mask = np.any(objects & active[..., None, None], axis=1, keepdims=True)
    images = shapes.add_noise(rng, canvas, noise)
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
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be None or an integer >= 1, got {size!r}")
    root = Path(root)
    pairs = _image_mask_pairs(root)
    xs: list[np.ndarray] = []
    ms: list[np.ndarray] = []
    for image, mask in pairs:
        x, m = _read_pair(image, mask, size)
        if xs and x.shape != xs[0].shape:
            raise ValueError(
                f"{image.name} has shape {x.shape[1:]} but earlier images have "
                f"{xs[0].shape[1:]}; pass size= to resize"
            )
        xs.append(x)
        ms.append(m)
    return SaliencySet.from_arrays(np.stack(xs), np.stack(ms), root.name or str(root))


def _image_mask_pairs(root: Path) -> list[tuple[Path, Path]]:
    """The (image, mask) files of ``root/images`` and ``root/masks``, ordered by stem.

    Raises:
        ValueError: missing folders, no images, images without masks (named), stem clashes.
    """
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
    return [(images[stem], masks[stem]) for stem in sorted(images)]


def _read_pair(image: Path, mask: Path, size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """One scene as arrays: the RGB image ``(3, H, W)`` in [0, 1] and its 0/1 mask ``(1, H, W)``.

    Raises:
        ValueError: when, without ``size``, the image and mask sizes differ.
    """
    from PIL import Image  # Pillow ships with matplotlib; imported lazily

    with Image.open(image) as im_file, Image.open(mask) as mask_file:
        img = im_file.convert("RGB")
        msk = mask_file.convert("L")
    if size is not None:
        img = img.resize((size, size), Image.Resampling.BILINEAR)
        msk = msk.resize((size, size), Image.Resampling.BILINEAR)
    elif img.size != msk.size:
        raise ValueError(
            f"{image.name} is {img.size[0]}×{img.size[1]} but its mask "
            f"{mask.name} is {msk.size[0]}×{msk.size[1]}; pass size= to resize"
        )
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    m = (np.asarray(msk, dtype=np.float32)[None] / 255.0 > 0.5).astype(np.float32)
    return x, m


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
