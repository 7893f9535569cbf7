"""A store's gallery (`index.html` at the top of its packages folder), its counts (`summary.json`)
and the repeated-pictures report (`repeats.json`); and the top page of PACKAGES_DIR that lists
every store with its counts (`refresh_store_index`).

A store's three files are rebuilt from its store after a run that changed something, and written
only when their bytes differ. None carries a timestamp of its own, so a run that changed nothing
leaves them untouched. The gallery also shows what is held back: products the sync quarantined
(with the reason) and packages built without some pictures (which, and why). Its cards are data
(a JSON block the page's script renders a page at a time, searched and filtered: 10,000 packages
stay quick), each with the title from its package's meta.json; a card's copy button loads the
post from the package's post.js, so no post is in the page.

The top page is built from the stores' summary.json files, under an exclusive lock on
`PACKAGES_DIR/.index.lock` held from the first read to the rename: two stores' runs finishing
together each see the other's summary, or wait for it, so the last page written is never stale.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from resources.commerce_api.registry import MAX_SLUG, SLUG
from resources.package_files.writer import PackageWriter
from resources.store import package_records
from resources.store.package_records import GalleryRow, QuarantinedProduct

from content_assets.packages.media.perceptual_hash import HashedImage, Repeat, find_repeats
from content_assets.packages.package_meta import read_meta
from content_assets.packages.plan import POST_SCRIPT_FILE, TEMPLATES_DIR
from content_assets.packages.seller_html import strip_controls

GALLERY_TEMPLATE, STORES_TEMPLATE = "_gallery.html.j2", "_stores.html.j2"
GALLERY_FILE, REPEATS_FILE, SUMMARY_FILE = "index.html", "repeats.json", "summary.json"
INDEX_LOCK = ".index.lock"
TOP_PAGE = "../index.html"  # a store's gallery is PACKAGES_DIR/<store>/index.html
_FAILED, _OK, _WARN = "#e4002b", "#03a04a", "#c77c00"
READY, FAILED, QUARANTINED, MISSING_PICTURE, WAITING = (
    "ready", "failed", "quarantined", "missing picture", "waiting for a rebuild")
STATUS_COLOURS = {READY: _OK, FAILED: _FAILED, QUARANTINED: _FAILED, MISSING_PICTURE: _WARN, WAITING: _WARN}
# Cards the page renders at a time (more as the reader scrolls): a 10,000-package page stays quick.
CARDS_PER_PAGE = 120
STORE_OK, STORE_FAILURES, STORE_EMPTY, STORE_UNREADABLE = "ok", "failures", "no packages yet", "summary unreadable"
_NOTE_CHARS = 160  # a note is one line of a card: a reason is cut there (the full text is in meta.json)


@dataclass(frozen=True)
class GalleryCard:
    origin_product_no: int
    name: str
    variant: str | None
    has_thumbnail: bool
    price: str | None
    status: str  # one of STATUS_COLOURS
    notes: list[str] = field(default_factory=list)
    title: str | None = None  # meta.json's title, as pasted; None: the package's is unknown
    title_disclosure: str | None = None  # the disclosure `title` begins with

    def as_data(self) -> dict[str, Any]:
        """The card in the page's data block, in short keys (10,000 of them make the page)."""
        name, title = _text(self.name), _text(self.title or self.name)
        data: dict[str, Any] = {"n": self.origin_product_no, "s": self.status, "t": title}
        optional = {"v": self.variant, "d": _text(self.title_disclosure or ""), "p": self.price,
                    "m": name if name != title else None, "i": 1 if self.has_thumbnail else None,
                    "x": [_text(note) for note in self.notes]}
        data.update((key, value) for key, value in optional.items() if value)
        return data


def _text(value: str) -> str:
    return str(strip_controls(value))


@dataclass(frozen=True)
class GallerySummary:
    """A store's packages by status (each card has one: they add up to `total`), as summary.json."""

    total: int = 0  # cards: packages, and products with none (failed, quarantined)
    packages: int = 0  # built packages
    ready: int = 0
    failed: int = 0
    quarantined: int = 0
    missing_picture: int = 0
    waiting: int = 0  # queued for a rebuild
    latest_build_at: str | None = None  # ISO 8601, the newest package's build time

    def to_json(self) -> bytes:
        fields = {"total": self.total, "packages": self.packages, "ready": self.ready, "failed": self.failed,
                  "quarantined": self.quarantined, "missingPicture": self.missing_picture,
                  "waiting": self.waiting, "latestBuildAt": self.latest_build_at}
        return json.dumps(fields, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> GallerySummary:
        """ValueError (or a TypeError or KeyError) when `data` is not a summary."""
        fields = json.loads(data)
        counts = {name: int(fields[key]) for name, key in (
            ("total", "total"), ("packages", "packages"), ("ready", "ready"), ("failed", "failed"),
            ("quarantined", "quarantined"), ("missing_picture", "missingPicture"), ("waiting", "waiting"))}
        latest = fields.get("latestBuildAt")
        return cls(**counts, latest_build_at=None if latest is None else str(latest))


@dataclass(frozen=True)
class GalleryRefresh:
    bytes_written: int = 0
    seconds: float = 0.0
    repeated_pictures: int | None = None  # known when the report was refreshed


def refresh_gallery(con: duckdb.DuckDBPyConnection, writer: PackageWriter, max_distance: int, *,
                    changed: bool, top_page: str | None = TOP_PAGE) -> GalleryRefresh:
    """The repeated-pictures report, the gallery and its summary, rebuilt from the store after a
    run that changed something, or when there is no gallery or summary yet; else nothing is done.
    `top_page` is the gallery's link back to the page of every store (None: no link)."""
    if not changed and (writer.root / GALLERY_FILE).exists() and (writer.root / SUMMARY_FILE).exists():
        return GalleryRefresh()
    started = time.perf_counter()
    repeats = find_repeats([HashedImage(*row) for row in package_records.picture_hashes(con)], max_distance)
    written = writer.write_root_file(REPEATS_FILE, render_repeats_json(repeats_report(repeats, max_distance)))
    rows, quarantined = package_records.gallery_rows(con), package_records.quarantined_products(con)
    cards = gallery_cards(rows, repeats, quarantined, package_titles(writer, rows))
    written += writer.write_root_file(GALLERY_FILE, _render_cards(cards, rows, repeats, quarantined, top_page))
    written += writer.write_root_file(SUMMARY_FILE, gallery_summary(rows, cards).to_json())
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
    """repeats.json, a picture a line: an indented dump goes through json's pure-Python encoder
    (0.21 s for 1,000 packages' pictures, half of a gallery refresh), a line each through its C one."""
    pictures = [json.dumps(picture, ensure_ascii=False, sort_keys=True) for picture in report["pictures"]]
    rest = {key: value for key, value in report.items() if key != "pictures"}
    head = json.dumps(rest, ensure_ascii=False, sort_keys=True)[1:-1]
    body = "[\n    " + ",\n    ".join(pictures) + "\n  ]" if pictures else "[]"
    return f'{{\n  {head},\n  "pictures": {body}\n}}\n'.encode()


# (product, variant) -> (meta.json's title, the disclosure it begins with)
Titles = dict[tuple[int, str], tuple[str, str | None]]


def render_gallery(rows: Sequence[GalleryRow], repeats: Sequence[Repeat],
                   quarantined: Sequence[QuarantinedProduct] = (), *, titles: Titles | None = None,
                   top_page: str | None = TOP_PAGE) -> bytes:
    return _render_cards(gallery_cards(rows, repeats, quarantined, titles), rows, repeats, quarantined, top_page)


def package_titles(writer: PackageWriter, rows: Sequence[GalleryRow]) -> Titles:
    """Each built package's title from its meta.json: the gallery shows what is pasted."""
    titles: Titles = {}
    for row in rows:
        if not row.variant:
            continue
        try:
            meta = read_meta(writer, row.origin_product_no, row.variant)
            disclosure = meta.get("titleDisclosure")  # none in packages of format 3 and before
            titles[(row.origin_product_no, row.variant)] = (str(meta["title"]), disclosure and str(disclosure))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # its card says so (_card) and shows the product's name
    return titles


def gallery_cards(rows: Sequence[GalleryRow], repeats: Sequence[Repeat],
                  quarantined: Sequence[QuarantinedProduct] = (), titles: Titles | None = None) -> list[GalleryCard]:
    """A card per package, and one per quarantined product that has none. Without `titles` (a
    gallery built from rows alone) a card's title is its product's name."""
    repeated = _repeated_files(repeats)
    held = {product.origin_product_no: product for product in quarantined}
    cards = [_card(row, len(repeated.get((row.origin_product_no, row.variant or ""), ())),
                   held.get(row.origin_product_no), titles) for row in rows]
    carded = {row.origin_product_no for row in rows}
    cards += [_quarantine_card(product) for product in quarantined if product.origin_product_no not in carded]
    return cards


def gallery_summary(rows: Sequence[GalleryRow], cards: Sequence[GalleryCard]) -> GallerySummary:
    statuses = [card.status for card in cards]
    built = [row.built_at for row in rows if row.variant and row.built_at is not None]
    return GallerySummary(
        total=len(cards), packages=sum(1 for row in rows if row.variant), ready=statuses.count(READY),
        failed=statuses.count(FAILED), quarantined=statuses.count(QUARANTINED),
        missing_picture=statuses.count(MISSING_PICTURE), waiting=statuses.count(WAITING),
        latest_build_at=max(built).isoformat() if built else None)


def _repeated_files(repeats: Sequence[Repeat]) -> dict[tuple[int, str], set[str]]:
    repeated: dict[tuple[int, str], set[str]] = defaultdict(set)
    for repeat in repeats:
        repeated[(repeat.image.origin_product_no, repeat.image.variant)].add(repeat.image.file)
    return repeated


def _render_cards(cards: Sequence[GalleryCard], rows: Sequence[GalleryRow], repeats: Sequence[Repeat],
                  quarantined: Sequence[QuarantinedProduct], top_page: str | None) -> bytes:
    summary = {
        "packages": sum(1 for row in rows if row.variant),
        "failed": sum(1 for row in rows if row.queue_status == "failed"),
        "quarantined": len({product.origin_product_no for product in quarantined}),
        "missing_pictures": sum(1 for row in rows if row.missing_images),
        "videos_broken": sum(1 for row in rows if row.video_status in ("broken", "missing")),
        "repeated": len(_repeated_files(repeats)),
        "cards": len(cards),
    }
    data = {"cards": [card.as_data() for card in cards], "colours": STATUS_COLOURS, "pageSize": CARDS_PER_PAGE,
            "postScript": POST_SCRIPT_FILE}
    return _template(GALLERY_TEMPLATE).render(data=data, summary=summary, statuses=list(STATUS_COLOURS),
                                              top_page=top_page).encode()


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
        variant=None, has_thumbnail=False, price=None, status=QUARANTINED,
        notes=[_quarantine_note(product)],
    )


def _quarantine_note(product: QuarantinedProduct) -> str:
    retry = f"; tried again after {product.retry_after:%Y-%m-%d %H:%M %Z}" if product.retry_after else ""
    return f"{product.reason} ({product.failures} failure(s){retry})"[:_NOTE_CHARS]


def _card(row: GalleryRow, repeated_pictures: int, quarantine: QuarantinedProduct | None = None,
          titles: Titles | None = None) -> GalleryCard:
    price = row.discounted_price or row.sale_price
    status, notes = _status(row, quarantine)
    notes += _missing_notes(row)
    if row.video_status in ("broken", "missing"):
        notes.append(f"video {row.video_status}")
    elif row.video_status == "ok":
        notes.append(f"{row.keyframe_count} video keyframes")
    if repeated_pictures:
        notes.append(f"{repeated_pictures} picture(s) used in another package")
    title, disclosure = None, None
    if titles is not None and row.variant:
        if (row.origin_product_no, row.variant) in titles:
            title, disclosure = titles[(row.origin_product_no, row.variant)]
        else:
            notes.append("meta.json unreadable: the title shown is the product's name")
    return GalleryCard(
        origin_product_no=row.origin_product_no,
        name=row.name,
        variant=row.variant,
        has_thumbnail=bool(row.variant and row.image_count),
        price=f"{price:,}원" if price else None,
        status=status,
        notes=notes,
        title=title,
        title_disclosure=disclosure,
    )


def _status(row: GalleryRow, quarantine: QuarantinedProduct | None) -> tuple[str, list[str]]:
    """The card's one status, and the notes that explain it."""
    last_good = ["showing the last good package"] if row.variant else []
    if quarantine is not None:
        return QUARANTINED, [_quarantine_note(quarantine), *last_good]
    if row.queue_status == "failed":
        return FAILED, [(row.last_error or "")[:120], *last_good]
    if row.queue_status in ("pending", "in_progress"):
        return WAITING, []
    if row.missing_images:
        return MISSING_PICTURE, []
    return READY, []


# -- the top page: every store -----------------------------------------------------------------


@dataclass(frozen=True)
class StoreEntry:
    key: str
    name: str
    status: str  # ok | failures | no packages yet | summary unreadable
    summary: GallerySummary | None
    colour: str

    @property
    def href(self) -> str:
        return f"{self.key}/{GALLERY_FILE}"


def refresh_store_index(packages_root: Path, stores: Sequence[tuple[str, str]]) -> int:
    """PACKAGES_DIR/index.html: every store (key, display name) with its counts and a status, read
    from its summary.json, linking to its gallery. Written atomically and only when its bytes
    differ, the reads and the write under an exclusive lock; returns the bytes written."""
    for key, _ in stores:
        if not (SLUG.fullmatch(key) and len(key) <= MAX_SLUG):
            raise ValueError(f"store key {key!r} is not a slug ({SLUG.pattern}): it names a folder")
    packages_root.mkdir(parents=True, exist_ok=True)
    with _exclusive(packages_root / INDEX_LOCK):
        _remove_leftovers(packages_root, GALLERY_FILE)  # of a writer killed midway: none is live now
        entries = [store_entry(packages_root, key, name) for key, name in stores]
        return _replace_if_changed(packages_root / GALLERY_FILE, render_store_index(entries))


def store_entry(packages_root: Path, key: str, name: str) -> StoreEntry:
    try:
        summary = GallerySummary.from_json((packages_root / key / SUMMARY_FILE).read_bytes())
    except FileNotFoundError:
        return StoreEntry(key, name, STORE_EMPTY, None, "#888")
    except (OSError, ValueError, TypeError, KeyError):
        return StoreEntry(key, name, STORE_UNREADABLE, None, _FAILED)
    if summary.total == 0:
        return StoreEntry(key, name, STORE_EMPTY, summary, "#888")
    if summary.failed or summary.quarantined:
        return StoreEntry(key, name, STORE_FAILURES, summary, _FAILED)
    return StoreEntry(key, name, STORE_OK, summary, _OK)


def render_store_index(entries: Sequence[StoreEntry]) -> bytes:
    return _template(STORES_TEMPLATE).render(stores=entries).encode()


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An exclusive flock on `lock_path` (created when missing), released when the block ends or
    the process dies."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock


def _replace_if_changed(target: Path, data: bytes) -> int:
    """`target` atomically replaced by `data` unless it holds those bytes; the bytes written."""
    try:
        if target.read_bytes() == data:
            return 0
    except FileNotFoundError:
        pass
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(data)


def _remove_leftovers(folder: Path, name: str) -> None:
    for leftover in folder.glob(f".{name}.*.tmp"):
        leftover.unlink(missing_ok=True)


_environment: jinja2.Environment | None = None


def _template(name: str) -> jinja2.Template:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                          undefined=jinja2.StrictUndefined, finalize=strip_controls)
        # `tojson` still escapes < > & and ' (nothing in the data block can end its <script>); only
        # Korean is left as it is, not \uXXXX: that would double the page at 10,000 cards.
        _environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":"),
                                                      "sort_keys": True}
    return _environment.get_template(name)
