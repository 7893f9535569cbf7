"""Records that cross the API boundary: a listed product, a product's detail, a search page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STOREFARM = "STOREFARM"
MAX_SALE_PRICE = 999_999_990
MAX_STOCK_QUANTITY = 99_999_999


class PayloadError(ValueError):
    """A response parsed as JSON but does not have the shape the contract documents."""


def _tags(raw: Any) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(str(tag["text"]) for tag in raw if isinstance(tag, dict) and tag.get("text"))


def _url(raw: Any) -> str | None:
    return raw.get("url") if isinstance(raw, dict) else None


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
            channels = entry.get("channelProducts") or []
            if not channels:
                raise PayloadError(f"originProductNo {origin_no} has no channel products")
            channel = next((c for c in channels if c.get("channelServiceType") == STOREFARM), channels[0])
            return cls(
                origin_product_no=origin_no,
                channel_product_no=channel.get("channelProductNo"),
                seller_management_code=channel.get("sellerManagementCode"),
                name=str(channel["name"]),
                status_type=str(channel["statusType"]),
                display_status=channel.get("channelProductDisplayStatusType"),
                sale_price=channel.get("salePrice"),
                discounted_price=channel.get("discountedPrice"),
                stock_quantity=channel.get("stockQuantity"),
                representative_image_url=_url(channel.get("representativeImage")),
                seller_tags=_tags(channel.get("sellerTags")),
                category=channel.get("wholeCategoryName"),
                brand_name=channel.get("brandName"),
                manufacturer_name=channel.get("manufacturerName"),
                reg_date=channel.get("regDate"),
                modified_date=str(channel["modifiedDate"]),
                channel_count=len(channels),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, PayloadError):
                raise
            raise PayloadError(f"search entry is missing or has a bad {exc}") from None


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
            origin = payload["originProduct"]
            images = origin.get("images") or {}
            urls = [_url(images.get("representativeImage"))]
            urls += [_url(image) for image in images.get("optionalImages") or []]
            attributes = origin.get("detailAttribute") or {}
            codes = attributes.get("sellerCodeInfo") or {}
            shopping = attributes.get("naverShoppingSearchInfo") or {}
            seo = attributes.get("seoInfo") or {}
            channel = payload.get("smartstoreChannelProduct") or {}
            sale_price = int(origin["salePrice"])
            stock = int(origin["stockQuantity"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"originProductNo {origin_product_no}: detail is missing or has a bad {exc}") from None
        if not 0 <= sale_price <= MAX_SALE_PRICE:
            raise PayloadError(f"originProductNo {origin_product_no}: salePrice {sale_price} out of bounds")
        if not 0 <= stock <= MAX_STOCK_QUANTITY:
            raise PayloadError(f"originProductNo {origin_product_no}: stockQuantity {stock} out of bounds")
        name = origin.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PayloadError(f"originProductNo {origin_product_no}: detail has no name")
        return cls(
            origin_product_no=origin_product_no,
            name=name,
            status_type=str(origin.get("statusType")),
            sale_price=sale_price,
            stock_quantity=stock,
            detail_content=str(origin.get("detailContent") or ""),
            image_urls=tuple(url for url in urls if url),
            seller_tags=_tags(seo.get("sellerTags")),
            seller_management_code=codes.get("sellerManagementCode"),
            seller_barcode=codes.get("sellerBarcode"),
            brand_name=shopping.get("brandName"),
            manufacturer_name=shopping.get("manufacturerName"),
            model_name=shopping.get("modelName"),
            page_title=seo.get("pageTitle"),
            meta_description=seo.get("metaDescription"),
            channel_product_name=channel.get("channelProductName"),
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
