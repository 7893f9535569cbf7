"""The gallery (`index.html` at the top of PACKAGES_DIR) and the repeated-pictures report (`repeats.json`).

Both are rebuilt from the store after a run that changed something, and written only when their
bytes differ. Neither carries a timestamp of its own, so a run that changed nothing leaves them
untouched. The gallery also shows what is held back: products the sync quarantined (with the
reason) and packages built without some pictures (which, and why).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import jinja2

from resources.package_files.writer import PackageWriter
from resources.store import package_records
from resources.store.package_records import GalleryRow, QuarantinedProduct

from content_assets.packages.plan import TEMPLATES_DIR
from content_assets.packages.media.perceptual_hash import HashedImage, Repeat, find_repeats
from content_assets.packages.seller_html import strip_controls

GALLERY_TEMPLATE = "_gallery.html.j2"
GALLERY_FILE, REPEATS_FILE = "index.html", "repeats.json"
_FAILED, _OK, _WARN = "#e4002b", "#03a04a", "#c77c00"
QUARANTINED, MISSING_PICTURE = "quarantined", "missing picture"
_NOTE_CHARS = 160  # a note is one line of a card: a reason is cut there (the full text is in meta.json)


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


@dataclass(frozen=True)
class GalleryRefresh:
    bytes_written: int = 0
    seconds: float = 0.0
    repeated_pictures: int | None = None  # known when the report was refreshed


def refresh_gallery(con: duckdb.DuckDBPyConnection, writer: PackageWriter, max_distance: int, *,
                    changed: bool) -> GalleryRefresh:
    """The repeated-pictures report and the gallery, rebuilt from the store after a run that
    changed something, or when there is no gallery yet; else nothing is done."""
    if not changed and (writer.root / GALLERY_FILE).exists():
        return GalleryRefresh()
    started = time.perf_counter()
    repeats = find_repeats([HashedImage(*row) for row in package_records.picture_hashes(con)], max_distance)
    written = writer.write_root_file(REPEATS_FILE, render_repeats_json(repeats_report(repeats, max_distance)))
    written += writer.write_root_file(GALLERY_FILE, render_gallery(package_records.gallery_rows(con), repeats,
                                                                   package_records.quarantined_products(con)))
    repeated = len({(r.image.origin_product_no, r.image.variant, r.image.file) for r in repeats})
    return GalleryRefresh(written, time.perf_counter() - started, repeated)


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


def render_gallery(rows: Sequence[GalleryRow], repeats: Sequence[Repeat],
                   quarantined: Sequence[QuarantinedProduct] = ()) -> bytes:
    repeated: dict[tuple[int, str], set[str]] = defaultdict(set)
    for repeat in repeats:
        repeated[(repeat.image.origin_product_no, repeat.image.variant)].add(repeat.image.file)
    held = {product.origin_product_no: product for product in quarantined}
    cards = [_card(row, len(repeated.get((row.origin_product_no, row.variant or ""), ())), held.get(row.origin_product_no))
             for row in rows]
    carded = {row.origin_product_no for row in rows}
    cards += [_quarantine_card(product) for product in quarantined if product.origin_product_no not in carded]
    summary = {
        "packages": sum(1 for row in rows if row.variant),
        "failed": sum(1 for row in rows if row.queue_status == "failed"),
        "quarantined": len(held),
        "missing_pictures": sum(1 for row in rows if row.missing_images),
        "videos_broken": sum(1 for row in rows if row.video_status in ("broken", "missing")),
        "repeated": len(repeated),
    }
    return _template().render(cards=cards, summary=summary).encode()


def _missing_notes(row: GalleryRow) -> list[str]:
    """One note per missing picture: its position in the product's list and why."""
    try:
        missing = json.loads(row.missing_image_reasons or "[]")
    except ValueError:
        missing = []
    notes = [f"picture {item.get('position')} missing: {item.get('reason')}"[:_NOTE_CHARS]
             for item in missing[:3] if isinstance(item, dict)]
    if row.missing_images and row.missing_images > len(notes):
        notes.append(f"{row.missing_images - len(notes)} more picture(s) missing (see meta.json)")
    return notes


def _quarantine_card(product: QuarantinedProduct) -> GalleryCard:
    return GalleryCard(
        origin_product_no=product.origin_product_no,
        name=product.name or f"product {product.origin_product_no}",
        variant=None, folder=None, thumbnail=None, price=None,
        status=QUARANTINED, status_colour=_FAILED, border=_FAILED,
        notes=[_quarantine_note(product)],
    )


def _quarantine_note(product: QuarantinedProduct) -> str:
    retry = f"; tried again after {product.retry_after:%Y-%m-%d %H:%M %Z}" if product.retry_after else ""
    return f"{product.reason} ({product.failures} failure(s){retry})"[:_NOTE_CHARS]


def _card(row: GalleryRow, repeated_pictures: int, quarantine: QuarantinedProduct | None = None) -> GalleryCard:
    folder = f"{row.origin_product_no}/{row.variant}" if row.variant else None
    thumbnail = f"{folder}/images/01.jpg" if folder and row.image_count else None
    price = row.discounted_price or row.sale_price
    notes = []
    if quarantine is not None:
        status, colour = QUARANTINED, _FAILED
        notes.append(_quarantine_note(quarantine))
        if row.variant:
            notes.append("showing the last good package")
    elif row.queue_status == "failed":
        status, colour = "failed", _FAILED
        notes.append((row.last_error or "")[:120])
        if row.variant:
            notes.append("showing the last good package")
    elif row.queue_status in ("pending", "in_progress"):
        status, colour = "waiting for a rebuild", _WARN
    elif row.missing_images:
        status, colour = MISSING_PICTURE, _WARN
    else:
        status, colour = "ready", _OK
    notes += _missing_notes(row)
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
        border=_FAILED if status in ("failed", QUARANTINED) else "#ddd",
        notes=notes,
    )


_environment: jinja2.Environment | None = None


def _template() -> jinja2.Template:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                          undefined=jinja2.StrictUndefined, finalize=strip_controls)
    return _environment.get_template(GALLERY_TEMPLATE)
