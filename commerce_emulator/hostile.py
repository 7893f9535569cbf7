"""A corpus of hostile records: products whose listing, detail, pictures or video break the contract
in the ways a real catalog (or a broken gateway in front of it) can, for the chaos suite.

`EmulatorConfig(hostile=N)` (`--hostile N`) adds N products after the ordinary catalog; product i of
them gets kind `KINDS[i % len(KINDS)]`, so any N of at least len(KINDS) holds every kind. A kind is
applied when a payload or a file is served, on top of an ordinary product, so listing, modifying
and deleting a hostile product work as for any other.

Each kind says what a careful client should make of it (`Kind.expect`):
- "reject": the record cannot become a product (its detail or listing breaks the contract); the
  client records it with a reason (quarantine) and goes on;
- "degrade": the product is fine but a picture or the video is bad; its package is built without
  it and says which and why;
- "sanitize": odd but valid data (control characters, path-like strings, huge or deeply nested
  HTML, wrong but convertible types); the product is synced and its post stays inert.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from PIL import Image

# A picture or video "served slowly past the client's timeout" stalls this long before its first
# byte: the project's HTTP timeout is 10 s.
SLOW_MEDIA_SECONDS = 12.0
BOMB_SIDE = 30_000  # a 30000x30000 picture: 900 megapixels, ten times Pillow's bomb threshold
HUGE_IMAGE_SIDE = 4_000  # RGB noise, stored uncompressed: a ~48 MB PNG, past the project's 30 MB picture limit
HUGE_HTML_BYTES = 5 * 1024 * 1024
DEEP_HTML_LEVELS = 10_000
HUGE_VIDEO_PADDING = 40 * 1024 * 1024

CONTROL_TEXT = "\u202e\u0000\u0001\u0007\u0008\u000b\u000c\u001b\u001f\u200f\u2066"


@dataclass(frozen=True)
class Kind:
    name: str
    expect: str  # reject | degrade | sanitize
    where: str  # listing | detail | image | representative | video


KINDS: tuple[Kind, ...] = tuple(
    Kind(name, expect, where)
    for name, expect, where in (
        ("listing_price_string", "reject", "listing"),
        ("listing_name_null", "reject", "listing"),
        ("listing_channels_empty", "reject", "listing"),
        ("listing_channels_object", "reject", "listing"),
        ("listing_modified_date_garbage", "reject", "listing"),
        ("listing_number_for_strings", "sanitize", "listing"),
        ("listing_image_list", "sanitize", "listing"),
        ("detail_origin_missing", "reject", "detail"),
        ("detail_origin_null", "reject", "detail"),
        ("detail_origin_list", "reject", "detail"),
        ("detail_price_words", "reject", "detail"),
        ("detail_price_numeric_string", "sanitize", "detail"),
        ("detail_name_number", "reject", "detail"),
        ("detail_name_null", "reject", "detail"),
        ("detail_images_missing", "sanitize", "detail"),
        ("detail_images_list", "sanitize", "detail"),
        ("detail_image_urls_wrong_type", "sanitize", "detail"),
        ("detail_attribute_list", "sanitize", "detail"),
        ("detail_tags_object", "sanitize", "detail"),
        ("detail_every_optional_null", "sanitize", "detail"),
        ("detail_content_list", "sanitize", "detail"),
        ("detail_huge_html", "sanitize", "detail"),
        ("detail_deep_html", "sanitize", "detail"),
        ("detail_control_characters", "sanitize", "detail"),
        ("detail_path_like_strings", "sanitize", "detail"),
        ("image_not_an_image", "degrade", "image"),
        ("image_truncated_jpeg", "degrade", "image"),
        ("image_decompression_bomb", "degrade", "image"),
        ("image_huge_file", "degrade", "image"),
        ("image_slow", "degrade", "image"),
        ("image_404", "degrade", "image"),
        ("representative_not_an_image", "degrade", "representative"),
        ("representative_404", "degrade", "representative"),
        ("video_not_a_video", "degrade", "video"),
        ("video_truncated", "degrade", "video"),
        ("video_404", "degrade", "video"),
        # 40 MB of padding after a playable video: big, but within the project's 200 MB video
        # limit, so it is built with its keyframes (a picture past its limit is image_huge_file).
        ("video_huge", "sanitize", "video"),
        ("video_slow", "degrade", "video"),
    )
)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_at(index: int) -> Kind:
    """The kind of the index-th hostile product."""
    return KINDS[index % len(KINDS)]


def bad_image_position(kind_name: str) -> int | None:
    """Which picture (1 = representative) a media kind spoils, or None."""
    kind = KINDS_BY_NAME[kind_name]
    return {"image": 2, "representative": 1}.get(kind.where)


def listing_entry(kind_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A search `contents` entry as the hostile kind breaks it (ordinary kinds pass unchanged)."""
    channels = entry["channelProducts"]
    first = dict(channels[0])
    if kind_name == "listing_price_string":
        first.update(salePrice="12,000원", stockQuantity="많음")
    elif kind_name == "listing_name_null":
        first["name"] = None
    elif kind_name == "listing_channels_empty":
        return {**entry, "channelProducts": []}
    elif kind_name == "listing_channels_object":
        return {**entry, "channelProducts": first}
    elif kind_name == "listing_modified_date_garbage":
        first["modifiedDate"] = "어제 오후 3시"
    elif kind_name == "listing_number_for_strings":
        first.update(sellerManagementCode=1234567, brandName=42, wholeCategoryName=3.5)
    elif kind_name == "listing_image_list":
        first["representativeImage"] = [first["representativeImage"]]
    else:
        return entry
    return {**entry, "channelProducts": [first, *channels[1:]]}


def detail_body(kind_name: str, body: dict[str, Any]) -> dict[str, Any]:
    """A detail response as the hostile kind breaks it (media and listing kinds pass unchanged)."""
    if kind_name == "detail_origin_missing":
        return {key: value for key, value in body.items() if key != "originProduct"}
    if kind_name == "detail_origin_null":
        return {**body, "originProduct": None}
    if kind_name == "detail_origin_list":
        return {**body, "originProduct": [body["originProduct"]]}
    mangle = _DETAIL_MANGLERS.get(kind_name)
    if mangle is None:
        return body
    origin = dict(body["originProduct"])
    attributes = origin["detailAttribute"] = dict(origin["detailAttribute"])
    mangle(origin, attributes)  # changes `attributes` in place, or replaces origin's detailAttribute
    return {**body, "originProduct": origin}


def _every_optional_null(origin: dict, attributes: dict) -> None:
    origin.update(detailContent=None, images=None, statusType=None, detailAttribute=None)


def _control_characters(origin: dict, attributes: dict) -> None:
    origin["name"] = f"{CONTROL_TEXT}정품\u0000 {origin['name']} \u202egnp.exe"
    seo = dict(attributes["seoInfo"], sellerTags=[{"code": 1, "text": f"태그{CONTROL_TEXT}"}],
               pageTitle=f"\u202e{CONTROL_TEXT}")
    codes = dict(attributes["sellerCodeInfo"], sellerManagementCode=f"SKU\u0000\u202e{CONTROL_TEXT}")
    attributes.update(seoInfo=seo, sellerCodeInfo=codes)
    origin["detailContent"] = f"<p>{CONTROL_TEXT}</p>" + origin["detailContent"]


def _path_like(origin: dict, attributes: dict) -> None:
    origin["name"] = "../../../../tmp/chaos-escape/name"
    codes = dict(attributes["sellerCodeInfo"], sellerManagementCode="../../../../tmp/chaos-escape/sku",
                 sellerBarcode="/etc/passwd")
    seo = dict(attributes["seoInfo"], sellerTags=[{"code": 1, "text": "..\\..\\windows\\system32"},
                                                  {"code": 2, "text": "~/.ssh/id_rsa"}])
    attributes.update(sellerCodeInfo=codes, seoInfo=seo)


_DETAIL_MANGLERS = {
    "detail_price_words": lambda o, a: o.update(salePrice="만이천원", stockQuantity=[1]),
    "detail_price_numeric_string": lambda o, a: o.update(salePrice=str(o["salePrice"]),
                                                         stockQuantity=str(o["stockQuantity"])),
    "detail_name_number": lambda o, a: o.update(name=12345),
    "detail_name_null": lambda o, a: o.update(name=None),
    "detail_images_missing": lambda o, a: o.pop("images"),
    "detail_images_list": lambda o, a: o.update(images=[o["images"]]),
    "detail_image_urls_wrong_type": lambda o, a: o.update(images={"representativeImage": {"url": 404},
                                                                  "optionalImages": "none"}),
    "detail_attribute_list": lambda o, a: o.update(detailAttribute=[a]),
    "detail_tags_object": lambda o, a: a.update(seoInfo={**a["seoInfo"], "sellerTags": {"code": 1, "text": "x"}}),
    "detail_every_optional_null": _every_optional_null,
    "detail_content_list": lambda o, a: o.update(detailContent=["<p>", 1, None]),
    "detail_huge_html": lambda o, a: o.update(detailContent=huge_html()),
    "detail_deep_html": lambda o, a: o.update(detailContent=deep_html()),
    "detail_control_characters": _control_characters,
    "detail_path_like_strings": _path_like,
}


@functools.lru_cache(maxsize=1)
def huge_html() -> str:
    """Several MB of seller HTML: paragraphs, tables and inline styles, as a pasted catalog page."""
    row = '<tr><td style="color:#333">사이즈</td><td><b>XL</b> 가슴둘레 120cm</td></tr>'
    paragraph = f'<p style="font-size:14px">상세 설명 {"가나다라 " * 20}</p><table>{row * 4}</table>\n'
    return paragraph * (HUGE_HTML_BYTES // len(paragraph.encode()) + 1)


@functools.lru_cache(maxsize=1)
def deep_html() -> str:
    """Nesting ten thousand levels deep: recursive parsers and serializers overflow their stacks."""
    return "<div>" * DEEP_HTML_LEVELS + "<p>깊은 곳</p>" + "</div>" * DEEP_HTML_LEVELS


# -- media ----------------------------------------------------------------------------------------


def media_stall_seconds(kind_name: str) -> float:
    """How long to hold a spoiled picture or video before answering."""
    return SLOW_MEDIA_SECONDS if kind_name in ("image_slow", "video_slow") else 0.0


def image_bytes(kind_name: str, good_jpeg: bytes) -> tuple[int, bytes, str]:
    """(status, body, content type) of a picture the kind spoils."""
    if kind_name in ("image_404", "representative_404"):
        return 404, b'{"error":"no such image"}', "application/json"
    if kind_name in ("image_not_an_image", "representative_not_an_image"):
        return 200, b"<html><body>403 Forbidden by the CDN</body></html>", "image/jpeg"
    if kind_name == "image_truncated_jpeg":
        return 200, good_jpeg[: len(good_jpeg) * 2 // 5], "image/jpeg"
    if kind_name == "image_decompression_bomb":
        return 200, bomb_png(), "image/png"
    if kind_name == "image_huge_file":
        return 200, huge_png(), "image/png"
    return 200, good_jpeg, "image/jpeg"  # image_slow: a good picture, too late


def video_bytes(kind_name: str, good_mp4: bytes) -> tuple[int, bytes, str]:
    """(status, body, content type) of a video the kind spoils."""
    if kind_name == "video_404":
        return 404, b'{"error":"no such video"}', "application/json"
    if kind_name == "video_not_a_video":
        return 200, b"\x89PNG\r\n\x1a\n not a video at all " * 64, "video/mp4"
    if kind_name == "video_truncated":
        return 200, good_mp4[: len(good_mp4) // 4], "video/mp4"
    if kind_name == "video_huge":
        return 200, good_mp4 + bytes(HUGE_VIDEO_PADDING), "video/mp4"
    return 200, good_mp4, "video/mp4"  # video_slow


@functools.lru_cache(maxsize=1)
def bomb_png() -> bytes:
    """A valid 30000x30000 one-bit PNG of one colour: ~100 KB on the wire, 900 megapixels decoded."""
    row = b"\x00" + bytes(BOMB_SIDE // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(BOMB_SIDE)]
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(chunks)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=1)
def huge_png() -> bytes:
    """A real ~48 MB picture (noise does not compress), within Pillow's pixel limit."""
    noise = random.Random(11).randbytes(HUGE_IMAGE_SIDE * HUGE_IMAGE_SIDE * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (HUGE_IMAGE_SIDE, HUGE_IMAGE_SIDE), noise).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()
