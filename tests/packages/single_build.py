"""One package built for real without Dagster, HTTP or a store: a product with no pictures to
fetch (or pictures drawn by the emulator's renderer), with given package settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from commerce_emulator.images import render_product_image
from content_assets.packages.builder import PackageBuilder
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.plan import PackageProduct, PackageRenderer
from content_assets.packages.settings import PackageSettingsResource
from resources.package_files.writer import PackageWriter

KST = timezone(timedelta(hours=9))


def product(number: int, name: str, *, pictures: int = 0, page_title: str | None = None) -> PackageProduct:
    return PackageProduct(
        origin_product_no=number, channel_product_no=None, seller_management_code=None, name=name,
        status_type="SALE", sale_price=12_000, discounted_price=9_900, stock_quantity=3,
        modified_date=datetime(2025, 5, 1, 12, tzinfo=KST), category=None, brand_name=None, manufacturer_name=None,
        model_name=None, seller_tags=["티백"], image_urls=[f"cdn/{number}/{i}" for i in range(1, pictures + 1)],
        detail_content="<p>따뜻하게 <b>우려</b> 드세요.</p>", page_title=page_title, meta_description=None,
        payload_hash="h",
    )


def _draw(url: str, max_bytes: int | None = None) -> bytes:
    number, picture = (int(part) for part in url.rsplit("/", 2)[-2:])
    return render_product_image(11, number, picture)


@contextmanager
def package_builds(root: Path) -> Iterator[Callable[..., tuple[Path, dict[str, Any]]]]:
    """`build(product, settings=PackageSettingsResource())` -> the package's folder and its meta.json."""
    writer = PackageWriter(packages_dir=str(root))

    def build(item: PackageProduct, settings: PackageSettingsResource | None = None) -> tuple[Path, dict[str, Any]]:
        settings = settings or PackageSettingsResource()
        renderer = PackageRenderer(settings.templates(), settings.settings())
        outcome = PackageBuilder(renderer, writer, writer.image_cache(), _draw, pool, downloads).build(item, "default")
        return outcome.write.path, json.loads((outcome.write.path / "meta.json").read_text())

    with ImagePool(workers=1, in_flight=4) as pool, ThreadPoolExecutor(max_workers=2) as downloads:
        yield build
