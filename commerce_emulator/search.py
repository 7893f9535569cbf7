"""The product list query (`POST /v1/products/search`): request validation, filtering, ordering, paging."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .api_errors import InvalidInput, bad_request
from .catalog import Catalog, Product
from .kst import kst_day_number, parse_day_number

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

STATUS_TYPES = frozenset(
    {"WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE"}
)


@dataclass(frozen=True)
class _Order:
    key: Callable[[Product], Any]
    field_name: str
    direction: str


ORDERS: dict[str, _Order] = {
    "NO": _Order(lambda product: product.origin_product_no, "originProductNo", "ASC"),
    "MOD_DATE": _Order(lambda product: (-product.modified_date_ms, product.origin_product_no), "modifiedDate", "DESC"),
    "REG_DATE": _Order(lambda product: (-product.reg_date_ms, product.origin_product_no), "regDate", "DESC"),
    "NAME": _Order(lambda product: (product.name, product.origin_product_no), "name", "ASC"),
}

# Which stored date each supported periodType filters on.
PERIOD_FIELDS: dict[str, Callable[[Product], int]] = {
    "PROD_MOD_DAY": lambda product: product.modified_date_ms,
    "PROD_REG_DAY": lambda product: product.reg_date_ms,
}

KEYWORD_FIELDS = {
    "PRODUCT_NO": "originProductNos",
    "CHANNEL_PRODUCT_NO": "channelProductNos",
    "GROUP_PRODUCT_NO": "groupProductNos",
    "SELLER_CODE": "sellerManagementCode",
}


@dataclass(frozen=True)
class SearchRequest:
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    status_types: frozenset[str] | None = None  # None: every status except DELETE
    order_type: str = "NO"
    period_type: str | None = None
    from_day: int | None = None  # KST day numbers, inclusive
    to_day: int | None = None
    keyword_type: str | None = None
    keyword_values: frozenset[int | str] = frozenset()

    @classmethod
    def from_json(cls, body: Any) -> SearchRequest:
        """Validate a request body; raises ApiError 400 naming every field at fault."""
        if not isinstance(body, dict):
            raise bad_request("요청 본문은 JSON 객체여야 합니다.")
        problems: list[InvalidInput] = []
        page = _integer(body, "page", 1, problems, minimum=1)
        size = _integer(body, "size", DEFAULT_PAGE_SIZE, problems, minimum=1, maximum=MAX_PAGE_SIZE)
        status_types = _status_types(body, problems)
        order_type = body.get("orderType") or "NO"
        if order_type not in ORDERS:
            problems.append(
                InvalidInput(
                    "orderType",
                    "Pattern",
                    f"지원하지 않는 정렬 기준입니다: {order_type} (emulator supports {', '.join(ORDERS)})",
                )
            )
        period_type, from_day, to_day = _period(body, problems)
        keyword_type, keyword_values = _keyword(body, problems)
        if problems:
            raise bad_request("요청 값이 올바르지 않습니다.", *problems)
        return cls(page, size, status_types, order_type, period_type, from_day, to_day, keyword_type, keyword_values)


@dataclass(frozen=True)
class SearchPage:
    request: SearchRequest
    products: list[Product]
    total_elements: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_elements / self.request.size)

    @property
    def sort_field(self) -> tuple[str, str]:
        order = ORDERS[self.request.order_type]
        return order.field_name, order.direction


def run_search(catalog: Catalog, request: SearchRequest) -> SearchPage:
    """The requested page of products matching every filter, in the requested order."""
    matches = [product for product in _candidates(catalog, request) if _matches(product, request)]
    if request.order_type != "NO":
        matches.sort(key=ORDERS[request.order_type].key)
    start = (request.page - 1) * request.size
    return SearchPage(request, matches[start : start + request.size], len(matches))


def _candidates(catalog: Catalog, request: SearchRequest) -> Sequence[Product]:
    """Products in originProductNo order, narrowed by number first when the request names numbers."""
    if request.keyword_type == "PRODUCT_NO":
        found = (catalog.get(number) for number in sorted(request.keyword_values))
        return [product for product in found if product is not None]
    products = catalog.products
    if request.keyword_type == "CHANNEL_PRODUCT_NO":
        return [p for p in products if any(c.channel_product_no in request.keyword_values for c in p.channels)]
    if request.keyword_type == "GROUP_PRODUCT_NO":
        return [p for p in products if p.group_product_no in request.keyword_values]
    if request.keyword_type == "SELLER_CODE":
        return [p for p in products if p.seller_management_code in request.keyword_values]
    return products


def _matches(product: Product, request: SearchRequest) -> bool:
    if request.status_types is None:
        if product.status_type == "DELETE":
            return False
    elif product.status_type not in request.status_types:
        return False
    if request.period_type is not None:
        day = kst_day_number(PERIOD_FIELDS[request.period_type](product))
        if request.from_day is not None and day < request.from_day:
            return False
        if request.to_day is not None and day > request.to_day:
            return False
    return True


def _integer(
    body: dict, name: str, default: int, problems: list[InvalidInput], *, minimum: int, maximum: int | None = None
) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(InvalidInput(name, "TypeMismatch", f"{name}은(는) 정수여야 합니다."))
        return default
    if value < minimum:
        problems.append(InvalidInput(name, "Min", f"{name}은(는) {minimum} 이상이어야 합니다."))
    if maximum is not None and value > maximum:
        problems.append(InvalidInput(name, "Max", f"{name}은(는) {maximum} 이하여야 합니다."))
    return value


def _status_types(body: dict, problems: list[InvalidInput]) -> frozenset[str] | None:
    value = body.get("productStatusTypes")
    if value is None or value == []:
        return None
    if not isinstance(value, list) or any(status not in STATUS_TYPES for status in value):
        problems.append(
            InvalidInput(
                "productStatusTypes",
                "Pattern",
                f"상품 판매 상태는 {', '.join(sorted(STATUS_TYPES))} 중에서 선택해야 합니다.",
            )
        )
        return None
    return frozenset(value)


def _period(body: dict, problems: list[InvalidInput]) -> tuple[str | None, int | None, int | None]:
    period_type = body.get("periodType")
    days: dict[str, int | None] = {}
    for name in ("fromDate", "toDate"):
        text = body.get(name)
        days[name] = None
        if text is None:
            continue
        try:
            days[name] = parse_day_number(text)
        except ValueError:
            problems.append(InvalidInput(name, "Pattern", f"{name}은(는) yyyy-MM-dd 형식이어야 합니다."))
    has_dates = body.get("fromDate") is not None or body.get("toDate") is not None
    if period_type is None:
        if has_dates:
            problems.append(InvalidInput("periodType", "NotNull", "검색 기간을 지정하려면 periodType이 필요합니다."))
        return None, None, None
    if period_type not in PERIOD_FIELDS:
        problems.append(
            InvalidInput(
                "periodType",
                "Pattern",
                f"지원하지 않는 검색 기간 유형입니다: {period_type} (emulator supports {', '.join(PERIOD_FIELDS)})",
            )
        )
        return None, None, None
    from_day, to_day = days["fromDate"], days["toDate"]
    if from_day is not None and to_day is not None and from_day > to_day:
        problems.append(InvalidInput("fromDate", "Range", "fromDate는 toDate보다 늦을 수 없습니다."))
    return period_type, from_day, to_day


def _keyword(body: dict, problems: list[InvalidInput]) -> tuple[str | None, frozenset]:
    keyword_type = body.get("searchKeywordType")
    if keyword_type is None:
        return None, frozenset()
    field_name = KEYWORD_FIELDS.get(keyword_type)
    if field_name is None:
        problems.append(
            InvalidInput(
                "searchKeywordType", "Pattern", f"searchKeywordType은 {', '.join(KEYWORD_FIELDS)} 중 하나여야 합니다."
            )
        )
        return None, frozenset()
    value = body.get(field_name)
    if keyword_type == "SELLER_CODE":
        if not isinstance(value, str) or not value:
            problems.append(InvalidInput(field_name, "NotBlank", f"{field_name}을(를) 입력해야 합니다."))
            return None, frozenset()
        return keyword_type, frozenset({value})
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(item, bool) or not isinstance(item, int) for item in value)
    ):
        problems.append(InvalidInput(field_name, "NotEmpty", f"{field_name}에 번호 목록을 입력해야 합니다."))
        return None, frozenset()
    return keyword_type, frozenset(value)
