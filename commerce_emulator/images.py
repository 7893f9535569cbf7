"""Product images as real JPEGs, drawn deterministically from the seed, product number and image number."""

from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw, ImageOps

IMAGE_SIZE = (640, 480)
JPEG_QUALITY = 80


@functools.lru_cache(maxsize=512)
def render_product_image(seed: int, origin_product_no: int, number: int) -> bytes:
    """A 640x480 JPEG: a two-colour gradient with a few shapes; the same arguments give the same bytes."""
    rng = random.Random(f"{seed}/{origin_product_no}/{number}")
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
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)
