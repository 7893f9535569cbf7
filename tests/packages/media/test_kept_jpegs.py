"""A phone photo that re-encoding could only make worse is kept as stored, with nothing but its
picture's segments; every other photo is re-encoded; a photo's hash does not depend on its size."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from commerce_emulator.images import _draw, render_product_image
from content_assets.packages.media.jpeg_markers import JFIF_HEADER, picture_only
from content_assets.packages.media.normalize import NormalizeSettings, normalize_image
from content_assets.packages.media.perceptual_hash import distance
from tests.support.pictures import metadata_left, photo

ADOBE_YCBCR = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"
MOTION_PHOTO_TRAILER = b"\x00\x00\x00\x18ftypmp42" + b"video" * 200


def _jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _pixels(jpeg: bytes) -> bytes:
    return Image.open(io.BytesIO(jpeg)).convert("RGB").tobytes()


def _markers(jpeg: bytes) -> list[int]:
    """The segment markers before the first scan, in order."""
    found, position = [], 2
    while jpeg[position + 1] != 0xDA:
        found.append(jpeg[position + 1])
        position += 2 + int.from_bytes(jpeg[position + 2:position + 4], "big")
    return found


def test_a_phone_photo_at_the_emulators_quality_is_kept_pixel_for_pixel_without_its_metadata():
    source = render_product_image(7, 1_000_000_005, 1) + MOTION_PHOTO_TRAILER  # q80, 640x480, EXIF, GPS, comment
    assert metadata_left(source)
    result = normalize_image(source, NormalizeSettings())
    assert _pixels(result.data) == _pixels(source)  # the same compressed data: no loss at all
    assert metadata_left(result.data) == []
    assert result.data.startswith(b"\xff\xd8" + JFIF_HEADER) and result.data.endswith(b"\xff\xd9")
    assert 0xE1 not in _markers(result.data) and 0xFE not in _markers(result.data)  # no EXIF, no comment
    assert b"ftyp" not in result.data  # what came after the picture's end is gone
    assert (result.width, result.height) == (640, 480)


def test_a_photo_finer_than_the_settings_quality_is_re_encoded_at_it():
    drawing = _draw("7/1000000005/1", (640, 480))
    fine = normalize_image(_jpeg(drawing, quality=95), NormalizeSettings(quality=85))
    at_85 = _jpeg(drawing, quality=85)
    assert Image.open(io.BytesIO(fine.data)).quantization == Image.open(io.BytesIO(at_85)).quantization
    # The same photo stored at 85 already is kept as it is.
    assert _pixels(normalize_image(at_85, NormalizeSettings(quality=85)).data) == _pixels(at_85)


@pytest.mark.parametrize("kind", ["progressive", "adobe", "grey", "sideways", "too wide"])
def test_photos_a_plain_copy_could_show_differently_are_re_encoded(kind):
    drawing = _draw("7/1000000005/1", (640, 480))
    source = {
        "progressive": lambda: _jpeg(drawing, quality=70, progressive=True),
        "adobe": lambda: (lambda data: data[:2] + ADOBE_YCBCR + data[2:])(_jpeg(drawing, quality=70)),
        "grey": lambda: _jpeg(drawing.convert("L"), quality=70),
        "sideways": lambda: photo((640, 480), orientation=6),
        "too wide": lambda: _jpeg(_draw("7/1000000005/1", (1280, 960)), quality=70),
    }[kind]()
    result = normalize_image(source, NormalizeSettings())
    decoded = Image.open(io.BytesIO(result.data))
    assert decoded.mode == "RGB" and "progressive" not in decoded.info and metadata_left(result.data) == []
    assert decoded.quantization == Image.open(io.BytesIO(_jpeg(drawing, quality=85))).quantization


def test_only_a_whole_sequential_jpeg_is_copied():
    plain = _jpeg(_draw("7/1000000005/1", (64, 64)), quality=80)
    assert picture_only(plain) is not None
    assert picture_only(plain[:-2]) is None  # no end
    assert picture_only(plain[:len(plain) // 2]) is None  # cut in its scan data
    assert picture_only(plain[2:]) is None  # no start
    assert picture_only(_jpeg(_draw("7/1000000005/1", (64, 64)), quality=80, progressive=True)) is None
    assert picture_only(b"\xff\xd8" + ADOBE_YCBCR + plain[2:]) is None


def test_restart_markers_and_fill_bytes_are_kept_as_the_decoder_needs_them():
    source = _jpeg(_draw("7/1000000005/1", (128, 96)), quality=80, restart_marker_blocks=4)
    assert b"\xff\xd0" in source and b"\xff\xdd" in source
    filled = source[:-2] + b"\xff\xff\xff\xd9"  # fill bytes before the end marker are allowed
    copied = picture_only(filled)
    assert copied is not None and _pixels(copied) == _pixels(source)
    assert 0xDD in _markers(copied)


def test_a_photos_hash_does_not_change_with_its_size():
    for number in range(12):
        picture = f"7/{1_000_000_000 + number}/1"
        small, big = (normalize_image(_jpeg(_draw(picture, size), quality=80), NormalizeSettings())
                      for size in ((640, 480), (1280, 960)))
        assert small.width == 640 and big.width == 860
        assert distance(small.phash, big.phash) <= 2, picture


def test_components_named_r_g_b_are_re_encoded_as_the_decoder_read_them():
    """Without a JFIF header, libjpeg reads components named 'R', 'G', 'B' as RGB: a copy with
    the JFIF header in front would be read as YCbCr, in other colours."""
    plain = _jpeg(_draw("7/1000000005/1", (640, 480)), quality=70, subsampling=0)  # 4:4:4, as RGB JPEGs are
    assert plain[2:4] == b"\xff\xe0"  # Pillow's JFIF header, dropped here
    source = bytearray(plain[:2] + plain[4 + int.from_bytes(plain[4:6], "big"):])
    frame, scan = source.index(b"\xff\xc0"), source.index(b"\xff\xda")
    for index, name in enumerate(b"RGB"):  # in the frame header and in the scan's
        source[frame + 10 + 3 * index] = source[scan + 5 + 2 * index] = name
    source = bytes(source)
    assert picture_only(source) is None
    seen = Image.open(io.BytesIO(source)).convert("RGB")
    result = Image.open(io.BytesIO(normalize_image(source, NormalizeSettings()).data)).convert("RGB")
    assert max(abs(a - b) for a, b in zip(seen.getpixel((320, 240)), result.getpixel((320, 240)))) < 12
