"""The seller's catalog: N deterministic products built from a seed, plus the changes tests make to it."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .hostile import kind_at
from .kst import kst_midnight_ms, now_ms
from .seller_quirks import quirks_at
from .vocabulary import BRANDS, CATEGORIES, GENERIC_TAGS, MANUFACTURER_FORMS, NAME_PREFIXES, TAG_CODES, CategoryWords

# Generated dates fall in the 30 days before this instant, whatever today's date is,
# so the same seed always yields the same catalog.
CATALOG_EPOCH_MS = kst_midnight_ms(2025, 6, 1)
_THIRTY_DAYS_MS = 30 * 86_400_000

MAX_SALE_PRICE = 999_999_990
MIN_SALE_PRICE = 1_000
MAX_STOCK_QUANTITY = 99_999_999
MAX_IMAGES = 10  # one representative image plus up to nine optional ones


class UnknownProductError(LookupError):
    """An originProductNo that is not in the catalog (or is deleted, where that matters)."""


@dataclass(frozen=True, slots=True)
class SellerTag:
    code: int
    text: str


@dataclass(frozen=True, slots=True)
class ChannelListing:
    """Where an origin product is sold: the Smart Store (STOREFARM) always, sometimes also WINDOW."""

    channel_product_no: int
    service_type: str


@dataclass(frozen=True, slots=True)
class Product:
    """One origin product, stored compactly; API payloads are built from it on demand."""

    origin_product_no: int
    group_product_no: int | None
    channels: tuple[ChannelListing, ...]
    name: str
    seller_management_code: str | None
    status_type: str
    sale_price: int
    discounted_price: int
    stock_quantity: int
    image_count: int
    seller_tags: tuple[SellerTag, ...]
    category: CategoryWords
    brand_name: str
    manufacturer_name: str
    model_name: str
    seller_barcode: str | None
    naver_shopping_registration: bool
    reg_date_ms: int
    modified_date_ms: int
    hostile_detail: bool = False  # detailContent carries scripts, handlers and iframes (seller_quirks)
    video: str | None = None  # "ok", "broken" or "missing" when the detail embeds a video
    hostile: str | None = None  # a hostile.KINDS name: how its payloads or files break the contract

    @property
    def is_deleted(self) -> bool:
        return self.status_type == "DELETE"

    @property
    def display_status(self) -> str:
        """channelProductDisplayStatusType: shown unless suspended or deleted."""
        return "ON" if self.status_type in ("SALE", "OUTOFSTOCK") else "SUSPENSION"


class Catalog:
    """Products in ascending originProductNo order, looked up by number; safe to change from any thread."""

    def __init__(self, size: int, seed: int, clock_ms: Callable[[], int] = now_ms, hostile: int = 0) -> None:
        self.size = size
        self.seed = seed
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        # Hostile records come after the ordinary ones, so a seed's ordinary products stay as they were.
        self._products: list[Product] = _generate(size + hostile, seed)
        for index in range(hostile):
            product = self._products[size + index]
            kind = kind_at(index)
            self._products[size + index] = replace(
                product, hostile=kind.name, status_type="SALE", stock_quantity=max(1, product.stock_quantity),
                # Only a video kind has a video: an ordinary product's own quirks (a broken or
                # missing video) would blur what the kind itself does to the package.
                video="ok" if kind.where == "video" else None,
                # A picture kind spoils the second picture: the product must have one.
                image_count=max(2, product.image_count) if kind.where == "image" else product.image_count,
            )
        self._position = {product.origin_product_no: index for index, product in enumerate(self._products)}

    @property
    def products(self) -> tuple[Product, ...]:
        """A consistent snapshot of every product, deleted ones included, by originProductNo."""
        with self._lock:
            return tuple(self._products)

    def get(self, origin_product_no: int) -> Product | None:
        """The product (deleted ones included) or None."""
        position = self._position.get(origin_product_no)
        return None if position is None else self._products[position]

    def live_products(self) -> list[Product]:
        return [product for product in self.products if not product.is_deleted]

    def modify(
        self,
        fraction: float | None = None,
        seed: int = 0,
        origin_product_nos: Iterable[int] | None = None,
    ) -> list[int]:
        """Change price and stock of some live products and bump their modifiedDate to now.

        Either `fraction` (exactly round(fraction * live count) products, chosen
        deterministically from `seed`) or an explicit `origin_product_nos` list.
        Returns the modified numbers in ascending order.
        """
        if (fraction is None) == (origin_product_nos is None):
            raise ValueError("modify needs exactly one of fraction or origin_product_nos")
        rng = random.Random(seed)
        with self._lock:
            if fraction is not None:
                if not 0.0 <= fraction <= 1.0:
                    raise ValueError(f"fraction must be within 0..1, got {fraction}")
                live = [product.origin_product_no for product in self._products if not product.is_deleted]
                chosen = sorted(rng.sample(live, round(fraction * len(live))))
            else:
                chosen = sorted(set(origin_product_nos))
                for number in chosen:
                    product = self.get(number)
                    if product is None or product.is_deleted:
                        raise UnknownProductError(f"cannot modify product {number}: not in the catalog or deleted")
            modified_at = self._clock_ms()
            for number in chosen:
                position = self._position[number]
                # Products are frozen and swapped whole, so a concurrent reader never
                # sees a new price with an old modifiedDate.
                self._products[position] = _changed(self._products[position], rng, modified_at)
            return chosen

    def delete(self, origin_product_nos: Iterable[int]) -> list[int]:
        """Mark products deleted (listed as DELETE, 404 on detail); returns those newly deleted."""
        numbers = sorted(set(origin_product_nos))
        with self._lock:
            for number in numbers:
                if number not in self._position:
                    raise UnknownProductError(f"cannot delete product {number}: not in the catalog")
            deleted_at = self._clock_ms()
            newly_deleted = []
            for number in numbers:
                position = self._position[number]
                product = self._products[position]
                if not product.is_deleted:
                    # Deletion is a change too: change detection by modifiedDate must see it.
                    self._products[position] = replace(product, status_type="DELETE", modified_date_ms=deleted_at)
                    newly_deleted.append(number)
            return newly_deleted


def _changed(product: Product, rng: random.Random, modified_at_ms: int) -> Product:
    """The product with a new price and stock, as a seller's edit would leave it."""
    sale_price = _clamp_price(round(product.sale_price * rng.uniform(0.8, 1.25), -1))
    if sale_price == product.sale_price:
        sale_price = product.sale_price + 10 if product.sale_price < MAX_SALE_PRICE else product.sale_price - 10
    discount_ratio = product.discounted_price / product.sale_price
    discounted_price = max(10, min(sale_price, int(sale_price * discount_ratio) // 10 * 10))
    status_type = product.status_type
    if product.stock_quantity == 0:
        stock_quantity = rng.randint(1, 500)
        if status_type == "OUTOFSTOCK":
            status_type = "SALE"  # restocked
    else:
        swing = max(1, product.stock_quantity // 2)
        stock_quantity = min(MAX_STOCK_QUANTITY, max(1, product.stock_quantity + rng.randint(-swing, swing)))
        if stock_quantity == product.stock_quantity:
            stock_quantity = stock_quantity + 1 if stock_quantity < MAX_STOCK_QUANTITY else stock_quantity - 1
    return replace(
        product,
        sale_price=sale_price,
        discounted_price=discounted_price,
        stock_quantity=stock_quantity,
        status_type=status_type,
        modified_date_ms=modified_at_ms,
    )


def _clamp_price(price: float) -> int:
    return int(min(MAX_SALE_PRICE, max(MIN_SALE_PRICE, price)))


def _generate(size: int, seed: int) -> list[Product]:
    """Build the catalog in one pass over a single seeded generator (100,000 products in about a second)."""
    rng = random.Random(seed)
    products: list[Product] = []
    codes_so_far: list[str] = []
    tag_objects = {text: SellerTag(code, text) for text, code in TAG_CODES.items()}
    next_channel_no = 5_100_000_000 + rng.randrange(1_000_000)
    for index in range(size):
        category = rng.choice(CATEGORIES)
        brand = rng.choice(BRANDS)
        noun = rng.choice(category.nouns)
        product_size = rng.choice(category.sizes)
        name = f"{rng.choice(NAME_PREFIXES)}{rng.choice(category.adjectives)} {noun} {product_size}"

        # Not contiguous, like real numbers: a stride of 37 plus an offset that keeps them ascending.
        origin_product_no = 1_000_000_000 + index * 37 + rng.randrange(37)
        next_channel_no += rng.randint(1, 9)
        channels = [ChannelListing(next_channel_no, "STOREFARM")]
        if rng.random() < 0.2:
            next_channel_no += rng.randint(1, 9)
            channels.append(ChannelListing(next_channel_no, "WINDOW"))

        code_draw = rng.random()
        if code_draw < 0.10:
            seller_management_code = None
        elif code_draw < 0.15 and codes_so_far:
            seller_management_code = rng.choice(codes_so_far)  # sellers reuse SKUs; the key is originProductNo
        else:
            seller_management_code = f"{category.sku_prefix}-{index + 1:06d}"
            codes_so_far.append(seller_management_code)

        status_draw = rng.random()
        if status_draw < 0.02:
            status_type = "DELETE"
        elif status_draw < 0.10:
            status_type = "OUTOFSTOCK"
        elif status_draw < 0.13:
            status_type = "SUSPENSION"
        else:
            status_type = "SALE"

        sale_price = _random_price(rng)
        if rng.random() < 0.6:
            discounted_price = sale_price
        else:
            discounted_price = max(10, sale_price - round(sale_price * rng.randint(5, 50) / 100, -1))
        if status_type == "OUTOFSTOCK":
            stock_quantity = 0
        elif rng.random() < 0.95:
            stock_quantity = rng.randint(1, 9_999)
        else:
            stock_quantity = rng.randint(10_000, MAX_STOCK_QUANTITY)

        tag_texts = rng.sample(category.tags + GENERIC_TAGS, rng.randint(0, 5))
        reg_date_ms = CATALOG_EPOCH_MS - rng.randrange(_THIRTY_DAYS_MS)
        modified_date_ms = reg_date_ms + rng.randrange(CATALOG_EPOCH_MS - reg_date_ms)
        # Drawn from the position, not from rng, so the rest of the catalog stays as it was.
        quirks = quirks_at(index)
        if quirks.name is not None:
            name = quirks.name
        if quirks.seller_management_code is not None:
            seller_management_code = quirks.seller_management_code

        products.append(
            Product(
                origin_product_no=origin_product_no,
                group_product_no=8_000_000 + index // 4 if rng.random() < 0.05 else None,
                channels=tuple(channels),
                name=name,
                seller_management_code=seller_management_code,
                status_type=status_type,
                sale_price=sale_price,
                discounted_price=discounted_price,
                stock_quantity=stock_quantity,
                image_count=rng.randint(1, MAX_IMAGES),
                seller_tags=tuple(tag_objects[text] for text in tag_texts),
                category=category,
                brand_name=brand,
                manufacturer_name=rng.choice(MANUFACTURER_FORMS).format(brand=brand),
                model_name=f"{category.sku_prefix}-{rng.randint(100, 999)} {noun}",
                seller_barcode=f"880{rng.randrange(10**10):010d}" if rng.random() < 0.7 else None,
                naver_shopping_registration=rng.random() < 0.9,
                reg_date_ms=reg_date_ms,
                modified_date_ms=modified_date_ms,
                hostile_detail=quirks.hostile_detail,
                video=quirks.video,
            )
        )
    return products


def _random_price(rng: random.Random) -> int:
    """Mostly 5,000..300,000 won; a few cheaper items and a long tail up to the API maximum."""
    draw = rng.random()
    if draw < 0.90:
        return rng.randint(500, 30_000) * 10
    if draw < 0.98:
        return rng.randint(100, 499) * 10
    return _clamp_price(round(math.exp(rng.uniform(math.log(300_000), math.log(MAX_SALE_PRICE))), -1))
