"""What goes into a content package: the rendered post, its meta, the image list, a content hash.

Rendering needs no network: the content hash is known before any image is downloaded, so an
unchanged package costs one render and one hash, and nothing is fetched or written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import nh3
from markupsafe import Markup

TEMPLATES_DIR = Path(__file__).parent / "templates"
POST_TEMPLATE = "post.html.j2"
DEFAULT_DISCLOSURE = "이 포스팅은 판매자로부터 경제적 대가를 받아 작성되었습니다. (경제적 이해관계 표시)"
# Bump when the package's shape changes in a way the template's text does not show.
PACKAGE_FORMAT_VERSION = "1"


@dataclass(frozen=True)
class PackageProduct:
    """The product fields a package is made of (a row of the `products` table)."""

    origin_product_no: int
    channel_product_no: int | None
    seller_management_code: str | None
    name: str
    status_type: str
    sale_price: int | None
    discounted_price: int | None
    stock_quantity: int | None
    modified_date: datetime
    category: str | None
    brand_name: str | None
    manufacturer_name: str | None
    model_name: str | None
    seller_tags: list[str] | None
    image_urls: list[str] | None
    detail_content: str | None
    page_title: str | None
    meta_description: str | None
    payload_hash: str

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


@dataclass(frozen=True)
class PackageImage:
    file: str  # path inside the package, e.g. images/01.jpg
    source_url: str


@dataclass(frozen=True)
class RenderedPackage:
    product: PackageProduct
    variant: str
    post_html: str
    meta: dict[str, Any]
    images: tuple[PackageImage, ...]
    content_hash: str


class PackageRenderer:
    """Loads the template once per run and renders packages with it."""

    def __init__(self, *, disclosure: str = DEFAULT_DISCLOSURE, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.template = self.environment.get_template(POST_TEMPLATE)
        source = (templates_dir / POST_TEMPLATE).read_bytes()
        self.template_version = hashlib.sha256(source + PACKAGE_FORMAT_VERSION.encode()).hexdigest()[:12]
        self.disclosure = disclosure

    def render(self, product: PackageProduct, variant: str = "default") -> RenderedPackage:
        images = tuple(
            PackageImage(file=f"images/{index:02d}.jpg", source_url=url)
            for index, url in enumerate(product.image_urls or [], start=1)
        )
        attributes = [
            (label, value)
            for label, value in (
                ("브랜드", product.brand_name),
                ("제조사", product.manufacturer_name),
                ("모델명", product.model_name),
                ("카테고리", product.category),
            )
            if value
        ]
        post_html = self.template.render(
            product=product,
            images=images,
            attributes=attributes,
            # Seller-written HTML is untrusted: keep formatting, drop scripts, handlers, iframes.
            detail_html=Markup(nh3.clean(product.detail_content or "")),
            tags=product.seller_tags or [],
            disclosure=self.disclosure,
        )
        meta: dict[str, Any] = {
            "title": product.page_title or product.name,
            "tags": list(product.seller_tags or []),
            "category": product.category,
            "originProductNo": product.origin_product_no,
            "channelProductNo": product.channel_product_no,
            "sellerManagementCode": product.seller_management_code,
            "modifiedDate": product.modified_date.isoformat(),
            "variant": variant,
            "template": {"name": POST_TEMPLATE, "version": self.template_version},
            "images": [{"file": image.file, "sourceUrl": image.source_url} for image in images],
        }
        digest = hashlib.sha256()
        digest.update(post_html.encode())
        digest.update(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode())
        content_hash = digest.hexdigest()
        meta["contentHash"] = content_hash
        return RenderedPackage(product, variant, post_html, meta, images, content_hash)


def package_files(rendered: RenderedPackage, image_bytes: list[bytes]) -> dict[str, bytes]:
    """The files of a package, images included, ready for the writer."""
    meta = dict(rendered.meta)
    meta["images"] = [
        {**entry, "sizeBytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for entry, data in zip(rendered.meta["images"], image_bytes, strict=True)
    ]
    files = {
        "post.html": rendered.post_html.encode(),
        "meta.json": json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode(),
    }
    for image, data in zip(rendered.images, image_bytes, strict=True):
        files[image.file] = data
    return files
