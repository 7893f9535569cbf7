"""The product detail: shape, images, HTML detail content, and 404 for unknown or deleted products."""

from tests.support.emulator_calls import detail_path


def test_detail_has_the_contract_shape(emulator, authed):
    product = emulator.catalog.live_products()[0]
    response = authed.get(detail_path(product.origin_product_no))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"originProduct", "smartstoreChannelProduct"}
    origin = body["originProduct"]
    assert set(origin) == {
        "statusType",
        "name",
        "salePrice",
        "stockQuantity",
        "detailContent",
        "images",
        "detailAttribute",
    }
    assert "modifiedDate" not in response.text
    assert (origin["name"], origin["salePrice"], origin["stockQuantity"]) == (
        product.name,
        product.sale_price,
        product.stock_quantity,
    )
    attributes = origin["detailAttribute"]
    assert set(attributes) == {"sellerCodeInfo", "naverShoppingSearchInfo", "seoInfo"}
    assert set(attributes["sellerCodeInfo"]) == {"sellerManagementCode", "sellerBarcode"}
    assert set(attributes["naverShoppingSearchInfo"]) == {"brandName", "manufacturerName", "modelName"}
    assert set(attributes["seoInfo"]) == {"pageTitle", "metaDescription", "sellerTags"}
    assert set(body["smartstoreChannelProduct"]) == {
        "channelProductName",
        "channelProductDisplayStatusType",
        "naverShoppingRegistration",
    }


def test_images_are_absolute_urls_one_per_stored_image(emulator, authed):
    product = max(emulator.catalog.live_products(), key=lambda p: p.image_count)
    images = authed.get(detail_path(product.origin_product_no)).json()["originProduct"]["images"]
    urls = [images["representativeImage"]["url"]] + [image["url"] for image in images["optionalImages"]]
    assert len(urls) == product.image_count == 10
    assert urls[0] == f"{emulator.root_url}/images/{product.origin_product_no}/1.jpg"
    assert len(set(urls)) == len(urls)


def test_detail_content_is_html_referencing_the_product_images(emulator, authed):
    product = emulator.catalog.live_products()[1]
    content = authed.get(detail_path(product.origin_product_no)).json()["originProduct"]["detailContent"]
    assert content.count("<img src=") == product.image_count
    assert "<table" in content and "<b>" in content
    assert f"{emulator.root_url}/images/{product.origin_product_no}/1.jpg" in content
    assert authed.get(detail_path(product.origin_product_no)).json()["originProduct"]["detailContent"] == content


def test_deleted_product_is_not_found(emulator, authed):
    deleted = next(p for p in emulator.catalog.products if p.is_deleted)
    response = authed.get(detail_path(deleted.origin_product_no))
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert response.headers["GNCP-GW-Trace-ID"]


def test_unknown_and_non_numeric_products_are_not_found(authed):
    assert authed.get(detail_path(42)).json()["code"] == "NOT_FOUND"
    assert authed.get("/v2/products/origin-products/abc").status_code == 404


def test_deleting_a_product_makes_its_detail_404(emulator, authed):
    number = emulator.catalog.live_products()[0].origin_product_no
    assert authed.get(detail_path(number)).status_code == 200
    assert emulator.delete([number]) == [number]
    assert authed.get(detail_path(number)).status_code == 404
