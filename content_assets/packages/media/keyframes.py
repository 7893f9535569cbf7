"""Still pictures from a product video: N keyframes, evenly spread over the video, decoded with PyAV.

A keyframe (an intra-coded frame) decodes on its own, so picking keyframes costs one decode
each. When a video has fewer keyframes than asked for, frames at evenly spaced times are used.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import av

from content_assets.packages.media.normalize import NormalizedImage, NormalizeSettings, encode_frame

DEFAULT_KEYFRAMES = 3
MAX_PACKETS = 1_000_000  # a guard against hostile files that claim days of frames
MAX_FRAMES_DECODED = 600  # frames decoded from a keyframe to reach a time between keyframes


class VideoError(ValueError):
    """The video cannot be read: truncated, not a video, or without a video stream."""


@dataclass(frozen=True)
class Keyframe:
    image: NormalizedImage
    time_seconds: float


@dataclass(frozen=True)
class KeyframeResult:
    keyframes: tuple[Keyframe, ...]
    duration_seconds: float | None
    extract_seconds: float


def extract_keyframes(video: bytes, count: int, settings: NormalizeSettings) -> KeyframeResult:
    """`count` frames spread over the video, normalized like product images.

    Two passes over the in-memory file: the first reads packet headers only, to learn where the
    keyframes are; the second seeks to each chosen one and decodes a single frame. At most one
    decoded frame is held at a time, whatever the video's length.
    """
    if count < 1:
        raise ValueError(f"keyframe count must be >= 1, got {count}")
    started = time.perf_counter()
    try:
        with av.open(io.BytesIO(video), mode="r") as container:
            if not container.streams.video:
                raise VideoError("the file has no video stream")
            if container.format.name == "image2" or container.format.name.endswith("_pipe"):
                # FFmpeg reads a still picture as a one-frame video; a seller's video it is not.
                raise VideoError(f"not a video but a still picture ({container.format.name})")
            stream = container.streams.video[0]
            keyframe_times, last_time = _keyframe_times(container, stream)
            duration = float(container.duration / av.time_base) if container.duration else last_time
            if len(keyframe_times) >= count:
                targets = [keyframe_times[index] for index in _spread(len(keyframe_times), count)]
            else:
                span = duration or 0.0
                targets = [span * index / count for index in range(count)]
            keyframes = []
            for target in targets:
                frame = _frame_at(container, stream, target)
                if frame is not None and all(abs(k.time_seconds - frame[0]) > 1e-6 for k in keyframes):
                    keyframes.append(Keyframe(encode_frame(frame[1], settings), frame[0]))
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot read video ({len(video)} bytes): {exc}") from exc
    if not keyframes:
        raise VideoError(f"no frame could be decoded ({len(video)} bytes)")
    return KeyframeResult(tuple(keyframes), duration, time.perf_counter() - started)


def _keyframe_times(container, stream) -> tuple[list[float], float | None]:
    times: list[float] = []
    last: float | None = None
    for index, packet in enumerate(container.demux(stream)):
        if index >= MAX_PACKETS or packet.pts is None:
            continue
        seconds = float(packet.pts * packet.time_base)
        last = seconds if last is None else max(last, seconds)
        if packet.is_keyframe:
            times.append(seconds)
    return sorted(set(times)), last


def _frame_at(container, stream, seconds: float):
    """The first frame at or after `seconds`, as (time, RGB image); seeking lands on the keyframe before."""
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
    for index, frame in enumerate(container.decode(stream)):
        frame_time = float(frame.time) if frame.time is not None else seconds
        if frame_time + 1e-3 >= seconds or index >= MAX_FRAMES_DECODED:
            return frame_time, frame.to_image()
    return None


def _spread(available: int, wanted: int) -> list[int]:
    """Indexes of `wanted` items spread evenly over `available`, first and last included."""
    if available <= wanted:
        return list(range(available))
    if wanted == 1:
        return [0]
    return sorted({round(i * (available - 1) / (wanted - 1)) for i in range(wanted)})
