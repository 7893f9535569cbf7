"""The product list: shape, paging, status and date filters, ordering and number search."""

from datetime import datetime

import pytest

from commerce_emulator.kst import KST, iso_kst_from_ms

from tests.support.emulator_calls import SEARCH_PATH

CHANNEL_PRODUCT_KEYS = {
    "originProductNo",
    "channelProductNo",
    "channelServiceType",
    "name",
    "sellerManagementCode",
    "statusType",
    "channelProductDisplayStatusType",
    "salePrice",
    "discountedPrice",
    "stockQuantity",
    "representativeImage",
    "sellerTags",
    "wholeCategoryName",
    "brandName",
    "manufacturerName",
    "regDate",
    "modifiedDate",
}


def search(client, **body):
    response = client.post(SEARCH_PATH, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(client, **body):
    contents, page = [], 1
    while True:
        result = search(client, page=page, size=50, **body)
        contents.extend(result["contents"])
        if result["last"]:
            return contents
        page += 1


def test_response_has_exactly_the_contract_shape(emulator, authed):
    result = search(authed, size=5)
    assert set(result) == {"contents", "page", "size", "totalElements", "totalPages", "sort", "first", "last"}
    assert result["sort"] == {"sorted": True, "fields": [{"name": "originProductNo", "direction": "ASC"}]}
    content = result["contents"][0]
    assert set(content) == {"groupProductNo", "originProductNo", "channelProducts"}
    channel_product = content["channelProducts"][0]
    assert set(channel_product) == CHANNEL_PRODUCT_KEYS
    assert channel_product["channelServiceType"] == "STOREFARM"
    assert channel_product["representativeImage"]["url"].startswith(emulator.root_url + "/images/")
    for date_field in ("regDate", "modifiedDate"):
        assert channel_product[date_field].endswith("+09:00")


def test_paging_reports_totals_and_first_and_last(emulator, authed):
    live = len(emulator.catalog.live_products())
    first = search(authed, page=1, size=30)
    assert first["totalElements"] == live
    assert first["totalPages"] == -(-live // 30)
    assert first["first"] and not first["last"]
    assert len(first["contents"]) == 30

    last = search(authed, page=first["totalPages"], size=30)
    assert last["last"] and not last["first"]
    assert len(last["contents"]) == live - 30 * (first["totalPages"] - 1)

    beyond = search(authed, page=first["totalPages"] + 1, size=30)
    assert beyond["contents"] == [] and beyond["last"]


def test_pages_cover_every_live_product_once_in_number_order(emulator, authed):
    numbers = [content["originProductNo"] for content in all_pages(authed)]
    assert numbers == sorted(numbers)
    assert numbers == [product.origin_product_no for product in emulator.catalog.live_products()]


def test_default_size_is_50_and_500_is_allowed(authed):
    assert search(authed)["size"] == 50
    assert len(search(authed)["contents"]) == 50
    assert search(authed, size=500)["size"] == 500


def test_size_over_500_is_rejected_with_invalid_inputs(authed):
    response = authed.post(SEARCH_PATH, json={"size": 501})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BAD_REQUEST"
    assert body["invalidInputs"][0]["name"] == "size"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"page": 0}, "page"),
        ({"orderType": "BEST"}, "orderType"),
        ({"productStatusTypes": ["SOLD"]}, "productStatusTypes"),
        ({"periodType": "PROD_MOD_DAY", "fromDate": "2025/05/01"}, "fromDate"),
        ({"fromDate": "2025-05-01", "toDate": "2025-05-02"}, "periodType"),
        ({"searchKeywordType": "PRODUCT_NO"}, "originProductNos"),
    ],
)
def test_invalid_requests_name_the_field(authed, body, field):
    response = authed.post(SEARCH_PATH, json=body)
    assert response.status_code == 400
    assert field in {invalid["name"] for invalid in response.json()["invalidInputs"]}


def test_deleted_products_are_hidden_unless_delete_is_requested(emulator, authed):
    deleted = {product.origin_product_no for product in emulator.catalog.products if product.is_deleted}
    assert deleted, "the seed should produce some deleted products"
    listed = {content["originProductNo"] for content in all_pages(authed)}
    assert not listed & deleted

    only_deleted = all_pages(authed, productStatusTypes=["DELETE"])
    assert {content["originProductNo"] for content in only_deleted} == deleted
    assert {content["channelProducts"][0]["statusType"] for content in only_deleted} == {"DELETE"}


def test_status_filter_returns_only_those_statuses(emulator, authed):
    contents = all_pages(authed, productStatusTypes=["OUTOFSTOCK", "SUSPENSION"])
    expected = [p.origin_product_no for p in emulator.catalog.products if p.status_type in ("OUTOFSTOCK", "SUSPENSION")]
    assert [content["originProductNo"] for content in contents] == expected
    for content in contents:
        channel_product = content["channelProducts"][0]
        if channel_product["statusType"] == "OUTOFSTOCK":
            assert channel_product["stockQuantity"] == 0
        else:
            assert channel_product["channelProductDisplayStatusType"] == "SUSPENSION"


def test_some_products_are_also_listed_on_window(authed):
    contents = search(authed, size=200)["contents"]
    with_window = [
        c for c in contents if [cp["channelServiceType"] for cp in c["channelProducts"]] == ["STOREFARM", "WINDOW"]
    ]
    assert 0.1 < len(with_window) / len(contents) < 0.3
    pair = with_window[0]["channelProducts"]
    assert pair[0]["channelProductNo"] != pair[1]["channelProductNo"]
    assert pair[0]["originProductNo"] == pair[1]["originProductNo"]


def test_mod_day_filter_uses_kst_calendar_days_inclusively(emulator, authed):
    live = emulator.catalog.live_products()
    day_of = {p.origin_product_no: iso_kst_from_ms(p.modified_date_ms)[:10] for p in live}
    days = sorted(set(day_of.values()))
    from_day, to_day = days[3], days[6]
    contents = all_pages(authed, periodType="PROD_MOD_DAY", fromDate=from_day, toDate=to_day)
    expected = sorted(no for no, day in day_of.items() if from_day <= day <= to_day)
    assert [content["originProductNo"] for content in contents] == expected
    assert 0 < len(expected) < len(live)


def test_mod_day_filter_finds_products_modified_today(emulator, authed):
    modified = emulator.modify(fraction=0.05, seed=3)
    today = datetime.now(KST).date().isoformat()
    contents = all_pages(authed, periodType="PROD_MOD_DAY", fromDate=today, toDate=today)
    assert [content["originProductNo"] for content in contents] == modified


def test_reg_day_filter_uses_the_registration_date(emulator, authed):
    product = emulator.catalog.live_products()[0]
    day = iso_kst_from_ms(product.reg_date_ms)[:10]
    contents = all_pages(authed, periodType="PROD_REG_DAY", fromDate=day, toDate=day)
    assert product.origin_product_no in {content["originProductNo"] for content in contents}
    assert all(content["channelProducts"][0]["regDate"].startswith(day) for content in contents)


def test_mod_date_order_is_newest_first(authed):
    result = search(authed, orderType="MOD_DATE", size=100)
    dates = [content["channelProducts"][0]["modifiedDate"] for content in result["contents"]]
    assert dates == sorted(dates, reverse=True)
    assert result["sort"]["fields"] == [{"name": "modifiedDate", "direction": "DESC"}]


def test_name_order_is_alphabetical(authed):
    names = [
        content["channelProducts"][0]["name"] for content in search(authed, orderType="NAME", size=100)["contents"]
    ]
    assert names == sorted(names)


def test_search_by_origin_product_numbers(emulator, authed):
    wanted = [product.origin_product_no for product in emulator.catalog.live_products()[5:8]]
    result = search(authed, searchKeywordType="PRODUCT_NO", originProductNos=[wanted[2], wanted[0], wanted[1], 1])
    assert [content["originProductNo"] for content in result["contents"]] == wanted
    assert result["totalElements"] == 3
