"""Product photos made fit for a blog: upright, no wider than the post column, no metadata.

Runs in worker processes (content_assets.image_pool), so everything here is a plain function of
bytes and settings that returns picklable records. A phone photo carries EXIF with the GPS
position of the seller's home or shop, its camera and time, and often a JPEG comment; none of it
may reach a public post, so the output is a fresh JPEG written from pixels only.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass

from PIL import Image, ImageOps

from .perceptual_hash import perceptual_hash

# Bump when the output of normalize_image changes for the same input and settings: cached
# normalized images are keyed by it.
NORMALIZER_VERSION = "1"


@dataclass(frozen=True)
class NormalizeSettings:
    max_width: int = 860  # the Naver Blog editor's one-column content width, about 860 px
    quality: int = 85

    def __post_init__(self) -> None:
        if not 16 <= self.max_width <= 10_000:
            raise ValueError(f"image max_width must be 16..10000 px, got {self.max_width}")
        if not 1 <= self.quality <= 95:
            raise ValueError(f"JPEG quality must be 1..95, got {self.quality}")

    @property
    def key(self) -> str:
        """Names cached outputs: equal keys mean byte-identical outputs for the same source."""
        text = f"v{NORMALIZER_VERSION}-w{self.max_width}-q{self.quality}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class NormalizedImage:
    data: bytes  # a baseline JPEG without EXIF, XMP, ICC-embedded GPS or comments
    sha256: str
    phash: str  # 64-bit perceptual hash, 16 hex digits
    width: int
    height: int
    normalize_seconds: float
    hash_seconds: float


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can read."""


def normalize_image(source: bytes, settings: NormalizeSettings) -> NormalizedImage:
    started = time.perf_counter()
    try:
        image = Image.open(io.BytesIO(source))
        # JPEG decoders can scale by 1/2, 1/4, 1/8 while decoding: big photos cost a fraction.
        image.draft("RGB", (settings.max_width, settings.max_width * 4))
        image = ImageOps.exif_transpose(image)  # apply the orientation before the tag is dropped
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image ({len(source)} bytes): {exc}") from exc
    return encode_frame(image, settings, started)


def encode_frame(image: Image.Image, settings: NormalizeSettings, started: float | None = None) -> NormalizedImage:
    """Resize, flatten to RGB and encode a decoded picture (a photo or a video frame)."""
    started = time.perf_counter() if started is None else started
    if image.mode != "RGB":
        image = _flatten(image)
    if image.width > settings.max_width:
        height = max(1, round(image.height * settings.max_width / image.width))
        image = image.resize((settings.max_width, height), Image.Resampling.LANCZOS)
    # Nothing from the source travels on: Pillow re-saves comments and other info it finds here.
    image.info.clear()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=settings.quality, optimize=False, progressive=False)
    data = buffer.getvalue()
    encoded = time.perf_counter()
    phash = perceptual_hash(image)
    sha256 = hashlib.sha256(data).hexdigest()
    hashed = time.perf_counter()
    return NormalizedImage(data, sha256, phash, image.width, image.height, encoded - started, hashed - encoded)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparency becomes white, as the blog's page is."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
