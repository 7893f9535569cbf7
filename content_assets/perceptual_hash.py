"""Perceptual hashes of pictures and the search for near-duplicates across packages.

A perceptual hash (imagehash's DCT `phash`, 64 bits) changes little when a picture is re-encoded,
resized or lightly edited, so two images whose hashes differ in a few bits are the same picture
for a reader. Finding such pairs among every package's images tells the writer which photos
repeat across posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

# At most this many differing bits of 64 count as the same picture. A re-encoded or resized
# copy differs in 0-2 bits; distinct but plain product shots (flat backgrounds) came as close
# as 6 in the emulated catalog, so 4 keeps them apart.
DEFAULT_MAX_DISTANCE = 4
_CHUNK = 512  # rows compared at once: 512 x N uint64 keeps memory small at 100k images


def perceptual_hash(image: Image.Image) -> str:
    """phash of the picture. It looks at a 32x32 greyscale thumbnail anyway, so the picture is
    first reduced by an integer factor (box filter) to about 64 px: five times faster, same bits."""
    factor = max(1, min(image.width, image.height) // 64)
    return str(imagehash.phash(image.reduce(factor) if factor > 1 else image))


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class HashedImage:
    origin_product_no: int
    variant: str
    file: str
    phash: str


@dataclass(frozen=True)
class Repeat:
    """`image` looks like `other`, an image of another product's package."""

    image: HashedImage
    other: HashedImage
    distance: int


def find_repeats(images: Sequence[HashedImage], max_distance: int = DEFAULT_MAX_DISTANCE) -> list[Repeat]:
    """Every pair of images of different products within `max_distance` bits, both directions,
    ordered by product, file and distance. Vectorised: 10,000 images take well under a second."""
    if len(images) < 2:
        return []
    hashes = np.array([int(image.phash, 16) for image in images], dtype=np.uint64)
    products = np.array([image.origin_product_no for image in images], dtype=np.int64)
    repeats: list[Repeat] = []
    for start in range(0, len(images), _CHUNK):
        block = hashes[start : start + _CHUNK, None] ^ hashes[None, :]
        distances = np.bitwise_count(block)
        close = (distances <= max_distance) & (products[start : start + _CHUNK, None] != products[None, :])
        for row, column in zip(*np.nonzero(close), strict=True):
            repeats.append(Repeat(images[start + row], images[column], int(distances[row, column])))
    repeats.sort(key=lambda r: (r.image.origin_product_no, r.image.variant, r.image.file, r.distance,
                                r.other.origin_product_no, r.other.file))
    return repeats
