"""Pictures for the package tests and the checks every output picture must pass."""

from __future__ import annotations

import io

from PIL import ExifTags, Image

GPS_MARKERS = (b"GPS", b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"010-1234-5678")


def metadata_left(jpeg: bytes) -> list[str]:
    """Everything in a JPEG beyond its pixels that could identify the seller."""
    image = Image.open(io.BytesIO(jpeg))
    found = []
    exif = image.getexif()
    if len(exif):
        found.append(f"EXIF tags {sorted(exif)}")
    if exif.get_ifd(ExifTags.IFD.GPSInfo):
        found.append("GPS IFD")
    for key in ("exif", "xmp", "comment", "XML:com.adobe.xmp"):
        if image.info.get(key):
            found.append(f"info[{key!r}]")
    found += [f"bytes {marker!r}" for marker in GPS_MARKERS if marker in jpeg]
    return found


def photo(size: tuple[int, int] = (640, 480), *, orientation: int | None = None, gps: bool = True,
          mode: str = "RGB") -> bytes:
    """A phone photo: left half red, right half blue, with EXIF, GPS and a comment."""
    image = Image.new("RGB", size, (220, 30, 30))
    image.paste((30, 30, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "samsung"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (37.0, 33.0, 59.4),
                                      ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (126.0, 58.0, 1.2)}
    buffer = io.BytesIO()
    if mode == "RGBA":
        image.convert("RGBA").save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=90, exif=exif, comment=b"010-1234-5678")
    return buffer.getvalue()
