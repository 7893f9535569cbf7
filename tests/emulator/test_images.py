"""Product images: real deterministic JPEGs, outside the API's rate limit and statistics."""

import io

import httpx
from PIL import Image

from commerce_emulator.images import render_product_image


def test_images_are_valid_jpegs(emulator):
    product = emulator.catalog.live_products()[0]
    response = httpx.get(f"{emulator.root_url}/images/{product.origin_product_no}/1.jpg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    assert image.size == (640, 480)
    assert 1_000 < len(response.content) < 80_000


def test_images_are_deterministic_per_seed_product_and_number():
    assert render_product_image(1, 1_000_000_003, 1) == render_product_image(1, 1_000_000_003, 1)
    assert render_product_image(1, 1_000_000_003, 1) != render_product_image(1, 1_000_000_003, 2)
    assert render_product_image(1, 1_000_000_003, 1) != render_product_image(2, 1_000_000_003, 1)


def test_images_are_not_rate_limited_or_counted_as_api_calls(start_emulator):
    emulator = start_emulator(rate=1.0)
    product = max(emulator.catalog.live_products(), key=lambda p: p.image_count)
    with httpx.Client(base_url=emulator.root_url, timeout=5) as client:
        responses = [client.get(f"/images/{product.origin_product_no}/{n % 10 + 1}.jpg") for n in range(20)]
    assert {r.status_code for r in responses} == {200}
    assert all("GNCP-GW-RateLimit-Remaining" not in r.headers for r in responses)
    stats = emulator.stats()
    assert stats["images_served"] == 20
    assert stats["requests"] == {"token": {}, "search": {}, "detail": {}}


def test_images_beyond_the_product_count_or_of_unknown_products_are_404(emulator):
    product = emulator.catalog.live_products()[0]
    assert (
        httpx.get(f"{emulator.root_url}/images/{product.origin_product_no}/{product.image_count + 1}.jpg").status_code
        == 404
    )
    assert httpx.get(f"{emulator.root_url}/images/{product.origin_product_no}/0.jpg").status_code == 404
    assert httpx.get(f"{emulator.root_url}/images/5/1.jpg").status_code == 404


def test_with_an_image_folder_pictures_are_kept_there_and_served_from_it_by_any_server(start_emulator, tmp_path):
    from commerce_emulator.images import DRAWING_VERSION, ImageShelf

    first = start_emulator(image_folder=tmp_path)
    product = max(first.catalog.live_products(), key=lambda p: p.image_count)
    url = f"/images/{product.origin_product_no}/2.jpg"
    served = httpx.get(first.root_url + url).content
    kept = tmp_path / DRAWING_VERSION / "7" / f"{product.origin_product_no}-2.jpg"
    assert served == kept.read_bytes() == render_product_image(7, product.origin_product_no, 2)

    kept.write_bytes(b"\xff\xd8 what the folder holds")  # a second server serves the folder, not a drawing
    second = start_emulator(image_folder=tmp_path)
    assert httpx.get(second.root_url + url).content == b"\xff\xd8 what the folder holds"

    counts = [(product.origin_product_no, product.image_count)]
    assert ImageShelf(tmp_path).fill(7, counts) == product.image_count - 1  # all but the one kept
    assert ImageShelf(tmp_path).fill(7, counts) == 0
    assert not [path for path in kept.parent.iterdir() if path.name.startswith(".")]  # no partial file left
