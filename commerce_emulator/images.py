"""Product images as real JPEGs, drawn deterministically from the seed, product number and image number.

Like photos sellers upload from a phone, every image carries EXIF (camera, time, GPS position and
a JPEG comment with a phone number), and some optional images (never the representative one) are
what a content pipeline must cope with: stored sideways with an EXIF orientation, larger than a
blog column, or the same shared picture reused across products, sometimes re-encoded.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageOps

IMAGE_SIZE = (640, 480)
LARGE_IMAGE_SIZE = (1280, 960)
JPEG_QUALITY = 80
SHARED_PICTURES = 12  # pictures a seller reuses across products (a brand banner, a lifestyle shot)
# EXIF orientation 6: the stored pixels must be turned 90 degrees clockwise to be seen upright.
ROTATED_ORIENTATION = 6
PHONE_COMMENT = "촬영: 판매자 010-1234-5678"


@dataclass(frozen=True)
class ImageTraits:
    """How one product image is stored: which picture, at which size, rotation and quality."""

    picture: str  # the drawing's identity; equal pictures look alike whatever their encoding
    size: tuple[int, int]
    rotated: bool
    quality: int


def image_traits(seed: int, origin_product_no: int, number: int) -> ImageTraits:
    """The representative image (number 1) is always a plain 640x480 picture of the product."""
    own = ImageTraits(f"{seed}/{origin_product_no}/{number}", IMAGE_SIZE, False, JPEG_QUALITY)
    if number == 1:
        return own
    draw = random.Random(f"{seed}/{origin_product_no}/{number}/traits").random()
    if draw < 0.06:
        # Same picture, sometimes byte-identical, sometimes re-encoded: near-duplicates across posts.
        shared = random.Random(f"{seed}/{origin_product_no}/{number}/shared")
        picture = f"{seed}/shared/{shared.randrange(SHARED_PICTURES)}"
        return ImageTraits(picture, IMAGE_SIZE, False, shared.choice((JPEG_QUALITY, JPEG_QUALITY, 70)))
    if draw < 0.20:
        return ImageTraits(own.picture, IMAGE_SIZE, True, JPEG_QUALITY)
    if draw < 0.30:
        return ImageTraits(own.picture, LARGE_IMAGE_SIZE, False, JPEG_QUALITY)
    return own


# Like a CDN, serve a picture's bytes again without drawing it again (about 15 KB each).
@functools.lru_cache(maxsize=4096)
def render_product_image(seed: int, origin_product_no: int, number: int) -> bytes:
    """A JPEG with EXIF and GPS; the same arguments give the same bytes."""
    traits = image_traits(seed, origin_product_no, number)
    # A copy: Image.save keeps its options on the image object, and the drawing is shared by threads.
    image = _draw(traits.picture, traits.size).copy()
    # A reused picture is the same upload: same EXIF, and at the same quality the same bytes.
    exif = _phone_exif(random.Random(f"{traits.picture}/exif"))
    if traits.rotated:
        # What a phone held upright writes: sideways pixels plus a tag saying how to turn them.
        image = image.transpose(Image.Transpose.ROTATE_90)
        exif[ExifTags.Base.Orientation] = ROTATED_ORIENTATION
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=traits.quality, exif=exif, comment=PHONE_COMMENT.encode())
    return buffer.getvalue()


# Names the drawing: a folder of pictures drawn by other code is never served.
DRAWING_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


class ImageShelf:
    """Where the image host takes a picture's bytes from. Without a folder, it draws them (cached in
    memory); with one, it keeps every picture it draws there and serves it from there again, in
    this process and in any other given the same folder, as a CDN serves what was uploaded once.
    A benchmark fills the folder before it measures, so the emulator's drawing (several ms of CPU
    a picture) is not counted against the client it serves."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder / DRAWING_VERSION if folder is not None else None

    def get(self, seed: int, origin_product_no: int, number: int) -> bytes:
        path = self._path(seed, origin_product_no, number)
        if path is None:
            return render_product_image(seed, origin_product_no, number)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = render_product_image(seed, origin_product_no, number)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(data)
        os.replace(partial, path)  # whole or absent, for a reader in another process
        return data

    def fill(self, seed: int, image_counts: Iterable[tuple[int, int]]) -> int:
        """Draw every picture of (origin product number, image count) not on the shelf yet."""
        drawn = 0
        for origin_product_no, count in image_counts:
            for number in range(1, count + 1):
                path = self._path(seed, origin_product_no, number)
                if path is None or not path.exists():
                    self.get(seed, origin_product_no, number)
                    drawn += 1
        return drawn

    def _path(self, seed: int, origin_product_no: int, number: int) -> Path | None:
        return None if self.folder is None else self.folder / str(seed) / f"{origin_product_no}-{number}.jpg"


@functools.lru_cache(maxsize=16)  # decoded pictures are about 1 MB: keep only a few (the shared ones)
def _draw(picture: str, size: tuple[int, int]) -> Image.Image:
    """A two-colour gradient with a few shapes, scaled to `size` (shapes are placed on 640x480)."""
    rng = random.Random(picture)
    top, bottom = _colour(rng), _colour(rng)
    gradient = Image.linear_gradient("L").resize(IMAGE_SIZE)
    image = ImageOps.colorize(gradient, black=top, white=bottom)
    draw = ImageDraw.Draw(image)
    width, height = IMAGE_SIZE
    for _ in range(rng.randint(3, 6)):
        x0, y0 = rng.randrange(width - 80), rng.randrange(height - 80)
        box = (x0, y0, x0 + rng.randint(40, 240), y0 + rng.randint(40, 200))
        if rng.random() < 0.5:
            draw.ellipse(box, fill=_colour(rng))
        else:
            draw.rectangle(box, fill=_colour(rng))
    return image if size == IMAGE_SIZE else image.resize(size, Image.Resampling.BICUBIC)


def _phone_exif(rng: random.Random) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "samsung"
    exif[ExifTags.Base.Model] = "SM-S918N"
    exif[ExifTags.Base.Software] = "S918NKSU2AWF1"
    exif[ExifTags.Base.DateTime] = f"2025:05:{rng.randint(1, 28):02d} {rng.randint(8, 20):02d}:{rng.randrange(60):02d}:00"
    # Somewhere in Seoul: the seller's home or shop, which a blog post must not reveal.
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (37.0, float(rng.randint(28, 38)), round(rng.uniform(0, 60), 2)),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (126.0, float(rng.randint(50, 59)), round(rng.uniform(0, 60), 2)),
    }
    return exif


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)
