"""Image work: normalization strips metadata and applies orientation, keyframes come out of a
video, perceptual hashes find re-encoded copies, and the image pool needs no `__main__` guard."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from content_assets.packages.media import normalize as image_normalization

from commerce_emulator.images import render_product_image
from commerce_emulator.videos import render_broken_video, render_product_video
from content_assets.packages.media.normalize import ImageDecodeError, NormalizeSettings, normalize_image
from content_assets.packages.media.keyframes import VideoError, extract_keyframes
from content_assets.packages.media.perceptual_hash import HashedImage, distance, find_repeats
from tests.support.pictures import metadata_left, photo


def test_normalized_images_carry_no_exif_gps_or_comment():
    source = photo()
    assert metadata_left(source)  # the fixture really has something to remove
    result = normalize_image(source, NormalizeSettings())
    assert metadata_left(result.data) == []
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"


def test_orientation_is_applied_before_the_tag_is_dropped():
    # Stored sideways (480 wide, 640 high) with "turn 90 degrees clockwise to view" (6).
    sideways = Image.open(io.BytesIO(photo((640, 480)))).transpose(Image.Transpose.ROTATE_90)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(buffer, format="JPEG", exif=exif)
    result = normalize_image(buffer.getvalue(), NormalizeSettings())
    upright = Image.open(io.BytesIO(result.data)).convert("RGB")
    assert (result.width, result.height) == upright.size == (640, 480)
    # Upright again: red on the left, blue on the right, as photographed.
    assert upright.getpixel((40, 240))[0] > 150 and upright.getpixel((600, 240))[2] > 150


def test_wide_images_are_resized_to_the_maximum_width_and_narrow_ones_are_not():
    wide = normalize_image(photo((1600, 1200)), NormalizeSettings(max_width=800))
    assert (wide.width, wide.height) == (800, 600)
    narrow = normalize_image(photo((400, 300)), NormalizeSettings(max_width=800))
    assert (narrow.width, narrow.height) == (400, 300)


@pytest.mark.parametrize("orientation", [None, 6])
def test_big_photos_are_decoded_scaled_down_and_come_out_at_the_maximum_width(monkeypatch, orientation):
    decoded_sizes = []
    encode_frame = image_normalization.encode_frame

    def spy(image, *args):
        decoded_sizes.append(image.size)
        return encode_frame(image, *args)

    monkeypatch.setattr(image_normalization, "encode_frame", spy)
    # A phone photo as stored: 4000x3000, sideways for a portrait shot (orientation 6). The
    # decoder scales by the largest of 1/2, 1/4, 1/8 that keeps the upright width >= 860.
    result = normalize_image(photo((4000, 3000), orientation=orientation), NormalizeSettings(max_width=860))
    if orientation is None:
        assert decoded_sizes == [(1000, 750)] and (result.width, result.height) == (860, 645)  # 1/4
    else:
        assert decoded_sizes == [(1500, 2000)] and (result.width, result.height) == (860, 1147)  # 1/2, upright


def test_quality_is_configurable():
    source = render_product_image(7, 1_000_000_005, 2)
    low = normalize_image(source, NormalizeSettings(quality=30))
    high = normalize_image(source, NormalizeSettings(quality=92))
    assert len(low.data) < len(high.data)
    assert NormalizeSettings(quality=30).key != NormalizeSettings(quality=92).key


def test_transparent_pictures_are_flattened_onto_white():
    result = normalize_image(photo(mode="RGBA"), NormalizeSettings())
    assert Image.open(io.BytesIO(result.data)).mode == "RGB"


def test_bytes_that_are_not_an_image_raise_a_decode_error():
    with pytest.raises(ImageDecodeError):
        normalize_image(b"<html>404</html>", NormalizeSettings())


def test_keyframes_are_spread_over_the_video():
    video = render_product_video(7, 1_000_000_005)  # 4 s, a keyframe every second
    result = extract_keyframes(video, 3, NormalizeSettings())
    times = [frame.time_seconds for frame in result.keyframes]
    assert len(times) == 3 and times == sorted(times)
    assert times[0] == 0.0 and times[-1] >= 2.9
    for frame in result.keyframes:
        assert metadata_left(frame.image.data) == []
        assert (frame.image.width, frame.image.height) == (320, 240)
    assert len({frame.image.sha256 for frame in result.keyframes}) == 3


def test_more_keyframes_than_the_video_has_uses_evenly_spaced_frames():
    result = extract_keyframes(render_product_video(7, 1_000_000_005), 6, NormalizeSettings())
    assert len(result.keyframes) == 6
    assert len({round(frame.time_seconds, 1) for frame in result.keyframes}) == 6


@pytest.mark.parametrize("video", [render_broken_video(7, 1_000_000_005), b"", b"\x00" * 1000, photo()])
def test_a_broken_video_raises_a_video_error(video):
    with pytest.raises(VideoError):
        extract_keyframes(video, 3, NormalizeSettings())


def test_a_re_encoded_copy_is_near_and_another_picture_is_far():
    original = normalize_image(render_product_image(7, 1_000_000_005, 1), NormalizeSettings())
    copy = Image.open(io.BytesIO(original.data)).resize((500, 375))
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=60)
    recoded = normalize_image(buffer.getvalue(), NormalizeSettings())
    other = normalize_image(render_product_image(7, 1_000_000_042, 1), NormalizeSettings())
    assert recoded.sha256 != original.sha256
    assert distance(original.phash, recoded.phash) <= 2
    assert distance(original.phash, other.phash) > 10


def test_repeats_pair_pictures_of_different_products_only():
    same = "a5a5a5a5a5a5a5a5"
    images = [
        HashedImage(1, "default", "images/01.jpg", same),
        HashedImage(1, "default", "images/02.jpg", same),  # the same product: not a repeat
        HashedImage(2, "default", "images/03.jpg", "a5a5a5a5a5a5a5a4"),  # one bit away
        HashedImage(3, "default", "images/01.jpg", "5a5a5a5a5a5a5a5a"),  # far from everything
    ]
    pairs = {(r.image.origin_product_no, r.image.file, r.other.origin_product_no, r.other.file, r.distance)
             for r in find_repeats(images, max_distance=4)}
    assert pairs == {
        (1, "images/01.jpg", 2, "images/03.jpg", 1), (1, "images/02.jpg", 2, "images/03.jpg", 1),
        (2, "images/03.jpg", 1, "images/01.jpg", 1), (2, "images/03.jpg", 1, "images/02.jpg", 1),
    }


def test_repeats_are_exactly_the_pairs_a_comparison_of_every_pair_finds():
    # Clusters of near-identical hashes (a few bits flipped) among unrelated ones, many products.
    rng = random.Random(5)
    centres = [rng.getrandbits(64) for _ in range(25)]
    images = []
    for n in range(600):
        bits = rng.choice(centres)
        for _ in range(rng.randint(0, 6)):
            bits ^= 1 << rng.randrange(64)
        images.append(HashedImage(rng.randint(1, 40), "default", f"images/{n:03d}.jpg", f"{bits:016x}"))
    for max_distance in (0, 2, 4, 7):
        expected = {
            (a.file, b.file, distance(a.phash, b.phash))
            for a in images for b in images
            if a.origin_product_no != b.origin_product_no and distance(a.phash, b.phash) <= max_distance
        }
        found = [(r.image.file, r.other.file, r.distance) for r in find_repeats(images, max_distance)]
        assert len(found) == len(set(found)) and set(found) == expected
        assert expected or max_distance == 0


def test_the_emulator_serves_phone_photos_with_gps_and_some_sideways():
    assert "GPS IFD" in metadata_left(render_product_image(7, 1_000_000_005, 1))
    image = Image.open(io.BytesIO(render_product_image(7, 1_000_000_005, 5)))  # a sideways one for seed 7
    assert image.getexif().get(0x0112) == 6 and image.size == (480, 640)



def test_a_script_without_a_main_guard_can_use_the_image_pool(tmp_path: Path):
    # Worker processes started by spawn or forkserver re-import the caller's __main__: a one-off
    # script without `if __name__ == "__main__":` ran itself again in each and every package failed.
    script = tmp_path / "one_off.py"
    script.write_text(
        "from content_assets.packages.media.normalize import NormalizeSettings, normalize_image\n"
        "from content_assets.packages.media.image_pool import ImagePool\n"
        "from tests.support.pictures import photo\n"
        "with ImagePool(2) as pool:\n"
        "    results = [pool.submit(normalize_image, photo(), NormalizeSettings()) for _ in range(4)]\n"
        "    print(sum(1 for future in results if future.result().width == 640))\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, str(script)], cwd=root, env={"PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "4"
