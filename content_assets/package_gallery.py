"""The gallery (`index.html` at the top of PACKAGES_DIR) and the repeated-pictures report (`repeats.json`).

Both are rebuilt from the store after a run that changed something, and written only when their
bytes differ. Neither carries a timestamp of its own, so a run that changed nothing leaves them
untouched.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2

from resources.package_records import GalleryRow

from .packaging import TEMPLATES_DIR
from .perceptual_hash import HashedImage, Repeat

GALLERY_TEMPLATE = "_gallery.html.j2"
_FAILED, _OK = "#e4002b", "#03a04a"


@dataclass(frozen=True)
class GalleryCard:
    origin_product_no: int
    name: str
    variant: str | None
    folder: str | None
    thumbnail: str | None
    price: str | None
    status: str
    status_colour: str
    border: str
    notes: list[str] = field(default_factory=list)


def repeats_report(repeats: Sequence[Repeat], max_distance: int) -> dict[str, Any]:
    """Per picture, the pictures of other products that look the same."""
    grouped: dict[HashedImage, list[Repeat]] = defaultdict(list)
    for repeat in repeats:
        grouped[repeat.image].append(repeat)
    return {
        "maxDistance": max_distance,
        "pictures": [
            {
                "originProductNo": image.origin_product_no,
                "variant": image.variant,
                "file": image.file,
                "phash": image.phash,
                "repeats": [{"originProductNo": r.other.origin_product_no, "variant": r.other.variant,
                             "file": r.other.file, "distance": r.distance} for r in found],
            }
            for image, found in grouped.items()
        ],
    }


def render_repeats_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True).encode()


def render_gallery(rows: Sequence[GalleryRow], repeats: Sequence[Repeat]) -> bytes:
    repeated: dict[tuple[int, str], set[str]] = defaultdict(set)
    for repeat in repeats:
        repeated[(repeat.image.origin_product_no, repeat.image.variant)].add(repeat.image.file)
    cards = [_card(row, len(repeated.get((row.origin_product_no, row.variant or ""), ()))) for row in rows]
    summary = {
        "packages": sum(1 for row in rows if row.variant),
        "failed": sum(1 for row in rows if row.queue_status == "failed"),
        "videos_broken": sum(1 for row in rows if row.video_status in ("broken", "missing")),
        "repeated": len(repeated),
    }
    return _template().render(cards=cards, summary=summary).encode()


def _card(row: GalleryRow, repeated_pictures: int) -> GalleryCard:
    folder = f"{row.origin_product_no}/{row.variant}" if row.variant else None
    thumbnail = f"{folder}/images/01.jpg" if folder and row.image_count else None
    price = row.discounted_price or row.sale_price
    notes = []
    if row.queue_status == "failed":
        status, colour = "failed", _FAILED
        notes.append((row.last_error or "")[:120])
        if row.variant:
            notes.append("showing the last good package")
    elif row.queue_status in ("pending", "in_progress"):
        status, colour = "waiting for a rebuild", "#c77c00"
    else:
        status, colour = "ready", _OK
    if row.video_status in ("broken", "missing"):
        notes.append(f"video {row.video_status}")
    elif row.video_status == "ok":
        notes.append(f"{row.keyframe_count} video keyframes")
    if repeated_pictures:
        notes.append(f"{repeated_pictures} picture(s) used in another package")
    return GalleryCard(
        origin_product_no=row.origin_product_no,
        name=row.name,
        variant=row.variant,
        folder=folder,
        thumbnail=thumbnail,
        price=f"{price:,}원" if price else None,
        status=status,
        status_colour=colour,
        border=_FAILED if status == "failed" else "#ddd",
        notes=notes,
    )


_environment: jinja2.Environment | None = None


def _template() -> jinja2.Template:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                          undefined=jinja2.StrictUndefined)
    return _environment.get_template(GALLERY_TEMPLATE)
