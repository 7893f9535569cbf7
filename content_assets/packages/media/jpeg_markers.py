"""A JPEG's pixels without the rest: its segments rewritten, its compressed picture data untouched.

A JPEG file is a run of marker segments (`FF xx`, most with a two-byte length) around the
entropy-coded scan data. The picture is in the tables (DQT, DHT), the frame header (SOF), the
restart interval (DRI) and the scans (SOS and the data after each). Everything a camera or an
editor adds beside it is in APPn segments (EXIF with GPS, XMP, ICC profiles, JFIF thumbnails,
maker notes), comments (COM), or bytes after the end (a phone's motion-photo video). Copying only
the picture's segments gives a file that decodes to exactly the same pixels with nothing else in
it: no re-encoding, so no loss and no encoder time.

Only sequential Huffman-coded 8-bit JPEGs (SOF0, SOF1) are copied. Anything else, or anything
this reader does not understand, gives None and the caller re-encodes the picture from pixels.
An Adobe APP14 segment also gives None: it can say the components are RGB rather than YCbCr,
and without it a decoder would read them as YCbCr, so it cannot be dropped blindly. So does a
frame whose three components are not numbered 1, 2, 3: the JFIF header written in front would
make a decoder read as YCbCr what it may have read as RGB.
"""

from __future__ import annotations

import re

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
_SEQUENTIAL_HUFFMAN = frozenset((0xC0, 0xC1))  # SOF0 baseline, SOF1 extended sequential
_PICTURE = frozenset((0xC4, 0xDB, 0xDD)) | _SEQUENTIAL_HUFFMAN  # DHT, DQT, DRI, the frame header
_DROPPED = frozenset(range(0xE0, 0xF0)) - {0xEE} | {0xFE}  # APP0-APP15 but Adobe's APP14, COM
# The written file's only addition: a plain JFIF header (version 1.01, no density, no thumbnail),
# so that a reader takes the three components for YCbCr, as the dropped segments did not change.
JFIF_HEADER = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# In scan data a 0xFF byte is followed by 0x00 (a stuffed data byte) or by a restart marker
# (D0-D7); any other byte after 0xFF is the next segment's marker.
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def picture_only(jpeg: bytes) -> bytes | None:
    """The JPEG with only the segments that make its picture, or None where it cannot be
    trusted to decode the same without the others (see the module's docstring)."""
    if jpeg[:2] != b"\xff\xd8":
        return None
    kept = [jpeg[:2], JFIF_HEADER]
    position, framed, scanned = 2, False, False
    while True:
        marker, position = _next_marker(jpeg, position)
        if marker is None:
            return None
        if marker == EOI:
            kept.append(b"\xff\xd9")
            return b"".join(kept) if framed and scanned else None
        end = _segment_end(jpeg, position)
        if end is None:
            return None
        if marker == SOS:
            if not framed:
                return None
            found = _END_OF_SCAN.search(jpeg, end)
            if found is None:
                return None  # cut short: no end to the scan
            kept.append(jpeg[position - 2:found.start()])
            position, scanned = found.start(), True
        elif marker in _PICTURE:
            if marker in _SEQUENTIAL_HUFFMAN and not _colours_read_alike(jpeg[position + 2:end]):
                return None
            kept.append(jpeg[position - 2:end])
            framed = framed or marker in _SEQUENTIAL_HUFFMAN
            position = end
        elif marker in _DROPPED:
            position = end
        else:
            return None  # progressive, lossless or arithmetic-coded, Adobe's APP14, or unknown


def _colours_read_alike(frame: bytes) -> bool:
    """Whether a decoder reads this frame's colours alike with the JFIF header or without the
    segments dropped: one grey component, or three numbered 1, 2, 3 (JFIF's YCbCr). Three named
    'R', 'G', 'B', say, are RGB to libjpeg when no JFIF header says otherwise; four are CMYK or
    YCCK, which only Adobe's segment tells apart."""
    if len(frame) < 6:
        return False
    components = frame[5]
    if len(frame) < 6 + 3 * components:
        return False
    ids = tuple(frame[6 + 3 * index] for index in range(components))
    return components == 1 or ids == (1, 2, 3)


def _next_marker(jpeg: bytes, position: int) -> tuple[int | None, int]:
    """The marker at `position` (after any 0xFF fill bytes) and the position just past it."""
    if position >= len(jpeg) or jpeg[position] != 0xFF:
        return None, position
    while position + 1 < len(jpeg) and jpeg[position + 1] == 0xFF:
        position += 1
    if position + 1 >= len(jpeg):
        return None, position
    return jpeg[position + 1], position + 2


def _segment_end(jpeg: bytes, position: int) -> int | None:
    """Where the segment whose length field starts at `position` ends, if it is all there."""
    if position + 2 > len(jpeg):
        return None
    length = int.from_bytes(jpeg[position:position + 2], "big")
    end = position + length
    return end if length >= 2 and end <= len(jpeg) else None
