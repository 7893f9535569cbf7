"""Product videos as real MP4 files (H.264), drawn deterministically, and the broken kind sellers also upload.

A playable video is 4 seconds at 10 frames/s with a keyframe every second, so a client asking
for 3 keyframes finds 4 to choose from. A broken one is the same file cut short: its index
(the `moov` box, written last) is missing, as after an interrupted upload.
"""

from __future__ import annotations

import functools
import io
import random

import av
from PIL import Image, ImageDraw

VIDEO_SIZE = (320, 240)
FRAMES_PER_SECOND = 10
SECONDS = 4
BROKEN_FRACTION = 0.3  # how much of the file a broken video keeps


@functools.lru_cache(maxsize=64)
def render_product_video(seed: int, origin_product_no: int) -> bytes:
    rng = random.Random(f"{seed}/{origin_product_no}/video")
    background = [rng.randrange(256) for _ in range(3)]
    accent = tuple(rng.randrange(256) for _ in range(3))
    # A still set of shapes per product, so frames of different products' videos look different.
    scenery = []
    for _ in range(rng.randint(3, 5)):
        x0, y0 = rng.randrange(VIDEO_SIZE[0] - 60), rng.randrange(VIDEO_SIZE[1] - 60)
        scenery.append(((x0, y0, x0 + rng.randint(30, 150), y0 + rng.randint(30, 120)),
                        tuple(rng.randrange(256) for _ in range(3))))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264",
            rate=FRAMES_PER_SECOND,
            # A keyframe exactly every second and nowhere else, so tests know what to expect.
            options={"preset": "ultrafast", "g": str(FRAMES_PER_SECOND), "keyint_min": str(FRAMES_PER_SECOND),
                     "sc_threshold": "0"},
        )
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        for index in range(FRAMES_PER_SECOND * SECONDS):
            frame = Image.new("RGB", VIDEO_SIZE, tuple((c + 6 * index) % 256 for c in background))
            draw = ImageDraw.Draw(frame)
            for box, colour in scenery:
                draw.rectangle(box, fill=colour)
            x = 20 + 6 * index
            draw.ellipse((x, 80, x + 60, 140), fill=accent)
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def render_broken_video(seed: int, origin_product_no: int) -> bytes:
    whole = render_product_video(seed, origin_product_no)
    return whole[: int(len(whole) * BROKEN_FRACTION)]
