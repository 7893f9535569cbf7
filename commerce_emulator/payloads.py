"""JSON bodies of the list and detail APIs, built on demand from compact Product records."""

from __future__ import annotations

import html
import random

from . import hostile
from .catalog import ChannelListing, Product
from .kst import iso_kst_from_ms
from .search import SearchPage
from .seller_quirks import HOSTILE_DETAIL_HTML
from .vocabulary import BODY_SENTENCES, CLOSING_SENTENCES, INTRO_SENTENCES


def image_url(root_url: str, origin_product_no: int, number: int, media_slug: str | None = None) -> str:
    """Absolute URL of a product image; number 1 is the representative image.

    Catalogs other than the default app's put their store's slug first: their product numbers can
    coincide with another catalog's, their pictures do not.
    """
    store = "" if media_slug is None else f"{media_slug}/"
    return f"{root_url}/images/{store}{origin_product_no}/{number}.jpg"


def video_url(root_url: str, origin_product_no: int, media_slug: str | None = None) -> str:
    """Absolute URL of a product's video (the detail page embeds it; the API has no video field)."""
    store = "" if media_slug is None else f"{media_slug}/"
    return f"{root_url}/videos/{store}{origin_product_no}.mp4"


def search_response(page: SearchPage, root_url: str, media_slug: str | None = None) -> dict:
    request = page.request
    total_pages = page.total_pages
    sort_name, sort_direction = page.sort_field
    return {
        "contents": [_search_entry(product, root_url, media_slug) for product in page.products],
        "page": request.page,
        "size": request.size,
        "totalElements": page.total_elements,
        "totalPages": total_pages,
        "sort": {"sorted": True, "fields": [{"name": sort_name, "direction": sort_direction}]},
        "first": request.page == 1,
        "last": request.page >= total_pages,
    }


def _search_entry(product: Product, root_url: str, media_slug: str | None) -> dict:
    entry = {
        "groupProductNo": product.group_product_no,
        "originProductNo": product.origin_product_no,
        "channelProducts": [_channel_product(product, channel, root_url, media_slug) for channel in product.channels],
    }
    return entry if product.hostile is None else hostile.listing_entry(product.hostile, entry)


def _channel_product(product: Product, channel: ChannelListing, root_url: str, media_slug: str | None) -> dict:
    return {
        "originProductNo": product.origin_product_no,
        "channelProductNo": channel.channel_product_no,
        "channelServiceType": channel.service_type,
        "name": product.name,
        "sellerManagementCode": product.seller_management_code,
        "statusType": product.status_type,
        "channelProductDisplayStatusType": product.display_status,
        "salePrice": product.sale_price,
        "discountedPrice": product.discounted_price,
        "stockQuantity": product.stock_quantity,
        "representativeImage": {"url": image_url(root_url, product.origin_product_no, 1, media_slug)},
        "sellerTags": [{"code": tag.code, "text": tag.text} for tag in product.seller_tags],
        "wholeCategoryName": product.category.whole_name,
        "brandName": product.brand_name,
        "manufacturerName": product.manufacturer_name,
        "regDate": iso_kst_from_ms(product.reg_date_ms),
        "modifiedDate": iso_kst_from_ms(product.modified_date_ms),
    }


def detail_response(product: Product, catalog_seed: int, root_url: str, media_slug: str | None = None) -> dict:
    """`GET /v2/products/origin-products/{no}`; like the real one it has no modifiedDate."""
    body = _detail_response(product, catalog_seed, root_url, media_slug)
    return body if product.hostile is None else hostile.detail_body(product.hostile, body)


def _detail_response(product: Product, catalog_seed: int, root_url: str, media_slug: str | None) -> dict:
    number = product.origin_product_no
    category_words = product.category.whole_name.replace(">", " ")
    return {
        "originProduct": {
            "statusType": product.status_type,
            "name": product.name,
            "salePrice": product.sale_price,
            "stockQuantity": product.stock_quantity,
            "detailContent": detail_content(product, catalog_seed, root_url, media_slug),
            "images": {
                "representativeImage": {"url": image_url(root_url, number, 1, media_slug)},
                "optionalImages": [
                    {"url": image_url(root_url, number, n, media_slug)} for n in range(2, product.image_count + 1)
                ],
            },
            "detailAttribute": {
                "sellerCodeInfo": {
                    "sellerManagementCode": product.seller_management_code,
                    "sellerBarcode": product.seller_barcode,
                },
                "naverShoppingSearchInfo": {
                    "brandName": product.brand_name,
                    "manufacturerName": product.manufacturer_name,
                    "modelName": product.model_name,
                },
                "seoInfo": {
                    "pageTitle": f"{product.name} - {product.brand_name}",
                    "metaDescription": f"{product.brand_name} {product.name}. {category_words}",
                    "sellerTags": [{"code": tag.code, "text": tag.text} for tag in product.seller_tags],
                },
            },
        },
        "smartstoreChannelProduct": {
            "channelProductName": product.name,
            "channelProductDisplayStatusType": product.display_status,
            "naverShoppingRegistration": product.naver_shopping_registration,
        },
    }


def detail_content(product: Product, catalog_seed: int, root_url: str, media_slug: str | None = None) -> str:
    """Seller-written HTML: paragraphs, bold text, the product's images, a spec table, and for some
    products an embedded video or hostile markup (see seller_quirks).

    Generated from the catalog seed and product number, so it is the same on every call.
    """
    rng = random.Random(catalog_seed * 1_000_003 + product.origin_product_no)
    name = html.escape(product.name)
    number = product.origin_product_no
    parts = [
        '<div class="se-main-container">',
        f'<p style="text-align:center"><b>{name}</b></p>',
        f"<p>{rng.choice(INTRO_SENTENCES)}</p>",
    ]
    for image_number in range(1, product.image_count + 1):
        url = image_url(root_url, number, image_number, media_slug)
        parts.append(f'<p><img src="{url}" alt="{name} 이미지 {image_number}"></p>')
        if rng.random() < 0.5:
            parts.append(f"<p>{rng.choice(BODY_SENTENCES)}</p>")
    specs = (
        ("브랜드", product.brand_name),
        ("제조사", product.manufacturer_name),
        ("모델명", product.model_name),
        ("원산지", product.category.origin),
        ("보관방법", product.category.storage),
    )
    if product.video is not None:
        url = video_url(root_url, number, media_slug)
        parts.append(f'<p><video controls width="640" src="{url}"><source src="{url}" type="video/mp4"></video></p>')
    if product.hostile_detail:
        parts.append(HOSTILE_DETAIL_HTML)
    rows = "".join(f"<tr><th>{label}</th><td>{html.escape(value)}</td></tr>" for label, value in specs)
    parts.append(f'<table border="1"><tbody>{rows}</tbody></table>')
    parts.append(f"<p><b>{rng.choice(CLOSING_SENTENCES)}</b></p>")
    parts.append("</div>")
    return "\n".join(parts)
