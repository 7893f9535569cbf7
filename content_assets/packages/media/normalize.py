"""Product photos made fit for a blog: upright, no wider than the post column, no metadata.

Runs in the image pool's threads (content_assets.packages.media.image_pool), so everything here is a plain
function of bytes and settings that keeps no state between calls. A phone photo carries EXIF with
the GPS position of the seller's home or shop, its camera and time, and often a JPEG comment; none
of it may reach a public post, so the output is a fresh JPEG written from pixels only, or, where
re-encoding could only lose detail, the photo's own compressed pixels with every other segment
dropped (content_assets.packages.media.jpeg_markers).
"""

from __future__ import annotations

import functools
import hashlib
import io
import time
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps

from content_assets.packages.media.jpeg_markers import picture_only
from content_assets.packages.media.perceptual_hash import THUMBNAIL_SIDE, perceptual_hash

# Bump when the output of normalize_image changes for the same input and settings: cached
# normalized images are keyed by it.
# 2: JPEG draft scaling really happens for big photos (v1 asked for a height no photo has, so a
# 4032x3024 phone photo was decoded whole); BICUBIC instead of LANCZOS (see RESAMPLE).
# 3: a JPEG that re-encoding could only make worse is kept as stored, its other segments dropped
# (_as_stored); hashes come from a thumbnail of the same size at every scale (perceptual_hash).
NORMALIZER_VERSION = "3"
# EXIF orientations that ImageOps.exif_transpose turns or mirrors (1 is upright); from 5 on the
# stored picture is on its side, so its stored height becomes the width.
_TURNED = frozenset(range(2, 9))
_ON_ITS_SIDE = frozenset(range(5, 9))
# Downscaling by less than 2x (JPEG draft does the rest): on a photo and on small text, BICUBIC
# is 38-43 dB PSNR from LANCZOS, far below the q85 encoder's own error (23-30 dB), at 0.6-0.75 of
# its time. A reducing gap of 3 is indistinguishable from fair resampling (Pillow's docs) and
# only acts from 6x, i.e. on huge PNGs, which have no draft mode.
RESAMPLE = Image.Resampling.BICUBIC
REDUCING_GAP = 3.0
# Decoding is bounded by the picture's pixels, read from its header before any decoding: 50 MP is
# more than any phone or product camera makes (a 200 MP sensor bins to 12-50 MP), and a 50 MP RGB
# picture decodes to 150 MB. Pillow's own bomb check is set to the same figure; its warning (past
# the limit, below twice it) is an error here, not a line on stderr.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)


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
    """The bytes are not an image Pillow can read, or decoding them would cost too much."""


def normalize_image(source: bytes, settings: NormalizeSettings) -> NormalizedImage:
    started = time.perf_counter()
    try:
        image = Image.open(io.BytesIO(source))
        if image.width * image.height > MAX_PIXELS:
            raise ImageDecodeError(f"image of {image.width}x{image.height} pixels exceeds the {MAX_PIXELS:,}-pixel "
                                   f"limit (a decompression bomb or an unreasonably large picture)")
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        as_stored = _as_stored(source, image, orientation, settings)
        if as_stored is not None:
            return _kept(as_stored, image, started)
        # JPEG decoders can scale by 1/2, 1/4, 1/8 while decoding: big photos cost a fraction.
        # Draft keeps both sides at least as asked, so only the side that becomes the width is
        # asked for: a 4032x3024 photo decodes at 1008x756, then resizes to 860.
        wanted = (1, settings.max_width) if orientation in _ON_ITS_SIDE else (settings.max_width, 1)
        image.draft("RGB", wanted)
        # Apply the orientation before the tag is dropped. Only when there is one: for an upright
        # picture exif_transpose returns a copy, which costs as much as a third of the decode.
        if orientation in _TURNED:
            image = ImageOps.exif_transpose(image)
        image.load()
    except ImageDecodeError:
        raise
    except Image.UnidentifiedImageError:  # its message names a memory address: not one stable line
        raise ImageDecodeError(f"not an image Pillow can read ({len(source)} bytes)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"cannot decode image ({len(source)} bytes): {exc}") from exc
    return encode_frame(image, settings, started)


def _as_stored(source: bytes, image: Image.Image, orientation: int, settings: NormalizeSettings) -> bytes | None:
    """The photo's own JPEG data without its other segments, where re-encoding it could only lose
    detail and cost time: an upright YCbCr JPEG no wider than the column, each of whose
    quantization tables is at least as coarse, step for step, as the one the encoder would use at
    the settings' quality. Such a photo holds no detail a re-encode would keep, and its file is
    no bigger than one. Else None: the photo is re-encoded from its pixels."""
    if image.format != "JPEG" or image.mode != "RGB" or orientation in _TURNED or image.width > settings.max_width:
        return None
    ours = _encoder_tables(settings.quality)
    layers = getattr(image, "layer", [])
    tables = getattr(image, "quantization", {})
    if len(layers) != 3 or any(tq not in tables for _, _, _, tq in layers):
        return None
    for index, (_, _, _, tq) in enumerate(layers):
        if any(theirs < our for theirs, our in zip(tables[tq], ours[min(index, 1)], strict=True)):
            return None
    return picture_only(source)


@functools.lru_cache(maxsize=8)
def _encoder_tables(quality: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The luminance and chrominance tables Pillow's encoder writes at `quality`, as read back."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="JPEG", quality=quality)
    tables = Image.open(buffer).quantization
    return tuple(tables[0]), tuple(tables[1])


def _kept(data: bytes, image: Image.Image, started: float) -> NormalizedImage:
    """A JPEG kept as stored (`data`, from `image`'s file): `image` decoded at 1/8 scale, which
    checks its scan data whole, for the hash. `data` has the same tables and scans, so the same
    pixels."""
    width, height = image.size
    image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    image.load()
    decoded = time.perf_counter()
    phash = perceptual_hash(image)
    sha256 = hashlib.sha256(data).hexdigest()
    return NormalizedImage(data, sha256, phash, width, height, decoded - started, time.perf_counter() - decoded)


def encode_frame(image: Image.Image, settings: NormalizeSettings, started: float | None = None) -> NormalizedImage:
    """Resize, flatten to RGB and encode a decoded picture (a photo or a video frame)."""
    started = time.perf_counter() if started is None else started
    if image.mode != "RGB":
        image = _flatten(image)
    # Hashed before the resize, so that the thumbnail comes from the picture at its own scale,
    # as a kept JPEG's does (see perceptual_hash.THUMBNAIL_SIDE).
    hash_started = time.perf_counter()
    phash = perceptual_hash(image)
    phash_seconds = time.perf_counter() - hash_started
    if image.width > settings.max_width:
        height = max(1, round(image.height * settings.max_width / image.width))
        image = image.resize((settings.max_width, height), RESAMPLE, reducing_gap=REDUCING_GAP)
    # Nothing from the source travels on: Pillow re-saves comments and other info it finds here.
    image.info.clear()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=settings.quality, optimize=False, progressive=False)
    data = buffer.getvalue()
    encoded = time.perf_counter()
    sha256 = hashlib.sha256(data).hexdigest()
    return NormalizedImage(data, sha256, phash, image.width, image.height, encoded - started - phash_seconds,
                           phash_seconds + time.perf_counter() - encoded)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparency becomes white, as the blog's page is."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
