"""Records that cross the API boundary: a listed product, a product's detail, a search page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

STOREFARM = "STOREFARM"
MAX_SALE_PRICE = 999_999_990
MAX_STOCK_QUANTITY = 99_999_999


class PayloadError(ValueError):
    """A response parsed as JSON but does not have the shape the contract documents."""


# Field readers. The contract's types are not a promise the payload keeps: a number where text
# belongs is converted (a seller code of 1234567 is the text "1234567"), an optional object of the
# wrong shape is taken as absent, and a value that cannot stand for its field (a price in words,
# a date in prose) raises PayloadError, so the record is rejected with a reason, never stored
# half-typed (a stray int would fail the whole Arrow batch it is written in).


def _mapping(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _items(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _text(raw: Any, field: str) -> str | None:
    """Optional text: a string, a number as text, or None; an object or list is a bad field."""
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    raise PayloadError(f"{field} is a {type(raw).__name__}, not text")


def _required_text(raw: Any, field: str) -> str:
    text = _text(raw, field)
    if text is None or not text.strip():
        raise PayloadError(f"{field} is missing")
    return text


def _integer(raw: Any, field: str) -> int | None:
    """An optional whole number: an int, or a string or float that is exactly one."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise PayloadError(f"{field} is a boolean, not a number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw)
    raise PayloadError(f"{field} is {raw!r}, not a whole number")


def _timestamp(raw: Any, field: str) -> str | None:
    """An ISO-8601 timestamp as the API writes it, checked; None stays None."""
    if raw is None:
        return None
    try:
        datetime.fromisoformat(str(raw))
    except ValueError:
        raise PayloadError(f"{field} {str(raw)[:40]!r} is not an ISO-8601 timestamp") from None
    return str(raw)


def _tags(raw: Any) -> tuple[str, ...]:
    return tuple(str(tag["text"]) for tag in _items(raw) if isinstance(tag, dict) and tag.get("text"))


def _url(raw: Any) -> str | None:
    url = raw.get("url") if isinstance(raw, dict) else None
    return url if isinstance(url, str) and url else None


@dataclass(frozen=True)
class ListedProduct:
    """One origin product as the search lists it, seen through its Smart Store channel product."""

    origin_product_no: int
    channel_product_no: int | None
    seller_management_code: str | None
    name: str
    status_type: str
    display_status: str | None
    sale_price: int | None
    discounted_price: int | None
    stock_quantity: int | None
    representative_image_url: str | None
    seller_tags: tuple[str, ...]
    category: str | None
    brand_name: str | None
    manufacturer_name: str | None
    reg_date: str | None
    modified_date: str
    channel_count: int

    @classmethod
    def from_search_entry(cls, entry: dict[str, Any]) -> ListedProduct:
        try:
            origin_no = int(entry["originProductNo"])
            channels = [c for c in _items(entry.get("channelProducts")) if isinstance(c, dict)]
            if not channels:
                raise PayloadError(f"originProductNo {origin_no} has no channel products")
            channel = next((c for c in channels if c.get("channelServiceType") == STOREFARM), channels[0])
            return cls(
                origin_product_no=origin_no,
                channel_product_no=_integer(channel.get("channelProductNo"), "channelProductNo"),
                seller_management_code=_text(channel.get("sellerManagementCode"), "sellerManagementCode"),
                name=_required_text(channel.get("name"), "name"),
                status_type=_required_text(channel.get("statusType"), "statusType"),
                display_status=_text(channel.get("channelProductDisplayStatusType"), "channelProductDisplayStatusType"),
                sale_price=_integer(channel.get("salePrice"), "salePrice"),
                discounted_price=_integer(channel.get("discountedPrice"), "discountedPrice"),
                stock_quantity=_integer(channel.get("stockQuantity"), "stockQuantity"),
                representative_image_url=_url(channel.get("representativeImage")),
                seller_tags=_tags(channel.get("sellerTags")),
                category=_text(channel.get("wholeCategoryName"), "wholeCategoryName"),
                brand_name=_text(channel.get("brandName"), "brandName"),
                manufacturer_name=_text(channel.get("manufacturerName"), "manufacturerName"),
                reg_date=_timestamp(channel.get("regDate"), "regDate"),
                modified_date=_required_timestamp(channel.get("modifiedDate"), "modifiedDate"),
                channel_count=len(channels),
            )
        except PayloadError as exc:
            number = entry.get("originProductNo") if isinstance(entry, dict) else None
            raise PayloadError(f"search entry {number}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"search entry is missing or has a bad {exc}") from None


def _required_timestamp(raw: Any, field: str) -> str:
    if raw is None:
        raise PayloadError(f"{field} is missing")
    return str(_timestamp(raw, field))


@dataclass(frozen=True)
class ProductDetail:
    """The fields content-ops uses from `GET /v2/products/origin-products/{no}`."""

    origin_product_no: int
    name: str
    status_type: str
    sale_price: int
    stock_quantity: int
    detail_content: str
    image_urls: tuple[str, ...]
    seller_tags: tuple[str, ...]
    seller_management_code: str | None
    seller_barcode: str | None
    brand_name: str | None
    manufacturer_name: str | None
    model_name: str | None
    page_title: str | None
    meta_description: str | None
    channel_product_name: str | None

    @classmethod
    def from_payload(cls, origin_product_no: int, payload: Any) -> ProductDetail:
        try:
            return cls._parse(origin_product_no, payload)
        except PayloadError as exc:
            raise PayloadError(f"originProductNo {origin_product_no}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"originProductNo {origin_product_no}: detail is missing or has a bad {exc}") from None

    @classmethod
    def _parse(cls, origin_product_no: int, payload: Any) -> ProductDetail:
        origin = payload["originProduct"]
        if not isinstance(origin, dict):
            raise PayloadError(f"originProduct is a {type(origin).__name__}, not an object")
        images = _mapping(origin.get("images"))
        urls = [_url(images.get("representativeImage"))]
        urls += [_url(image) for image in _items(images.get("optionalImages"))]
        attributes = _mapping(origin.get("detailAttribute"))
        codes = _mapping(attributes.get("sellerCodeInfo"))
        shopping = _mapping(attributes.get("naverShoppingSearchInfo"))
        seo = _mapping(attributes.get("seoInfo"))
        channel = _mapping(payload.get("smartstoreChannelProduct"))
        sale_price = _integer(origin.get("salePrice"), "salePrice")
        stock = _integer(origin.get("stockQuantity"), "stockQuantity")
        if sale_price is None or not 0 <= sale_price <= MAX_SALE_PRICE:
            raise PayloadError(f"salePrice {sale_price} out of bounds")
        if stock is None or not 0 <= stock <= MAX_STOCK_QUANTITY:
            raise PayloadError(f"stockQuantity {stock} out of bounds")
        name = origin.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PayloadError("detail has no name")
        content = origin.get("detailContent")
        return cls(
            origin_product_no=origin_product_no,
            name=name,
            status_type=_text(origin.get("statusType"), "statusType") or "",
            sale_price=sale_price,
            stock_quantity=stock,
            detail_content=content if isinstance(content, str) else "",  # anything else is no HTML at all
            image_urls=tuple(url for url in urls if url),
            seller_tags=_tags(seo.get("sellerTags")),
            seller_management_code=_text(codes.get("sellerManagementCode"), "sellerManagementCode"),
            seller_barcode=_text(codes.get("sellerBarcode"), "sellerBarcode"),
            brand_name=_text(shopping.get("brandName"), "brandName"),
            manufacturer_name=_text(shopping.get("manufacturerName"), "manufacturerName"),
            model_name=_text(shopping.get("modelName"), "modelName"),
            page_title=_text(seo.get("pageTitle"), "pageTitle"),
            meta_description=_text(seo.get("metaDescription"), "metaDescription"),
            channel_product_name=_text(channel.get("channelProductName"), "channelProductName"),
        )


@dataclass(frozen=True)
class SearchPage:
    page: int
    size: int
    total_elements: int
    total_pages: int
    last: bool
    products: tuple[ListedProduct, ...]
    bad_entries: tuple[tuple[int | None, str], ...]  # (originProductNo if known, error)
