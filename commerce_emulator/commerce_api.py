"""The Commerce API servers behind the gateway: token issuance, product list and product detail."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .api_errors import InvalidInput, bad_request, forbidden, product_not_found
from .kst import now_ms
from .payloads import detail_response, search_response
from .search import SearchRequest, run_search
from .signature import is_valid_sign
from .stats import EmulatorStats
from .stores import AppEntry, Store, StoreDirectory, StoreKey
from .tokens import TokenStore

TIMESTAMP_MAX_AGE_MS = 5 * 60 * 1000
# Client and emulator share a clock on loopback, but a timestamp taken just
# before a clock tick can still read as a hair in the future.
TIMESTAMP_FUTURE_SKEW_MS = 1000

_TIMESTAMP_PATTERN = re.compile(r"\d{13}")
_REQUIRED_TOKEN_FIELDS = ("client_id", "timestamp", "grant_type", "client_secret_sign", "type")
TOKEN_TYPES = frozenset({"SELF", "SELLER"})


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict


class CommerceApi:
    """Answers API calls that already passed the gateway; raises ApiError for error responses."""

    def __init__(self, stores: StoreDirectory, tokens: TokenStore, stats: EmulatorStats, root_url: str) -> None:
        self._stores = stores
        self._tokens = tokens
        self._stats = stats
        self._root_url = root_url

    def issue_token(self, fields: Mapping[str, str]) -> ApiResponse:
        """`POST /v1/oauth2/token` with already-decoded form fields."""
        _check_token_form(fields)
        timestamp = fields["timestamp"]
        _check_timestamp(timestamp)
        client_id = fields["client_id"]
        app = self._stores.app(client_id)
        if app is None:
            raise forbidden(
                "등록되지 않은 애플리케이션입니다.", InvalidInput("client_id", "Invalid", "unknown client_id")
            )
        if not is_valid_sign(client_id, timestamp, app.client_secret, fields["client_secret_sign"]):
            raise bad_request(
                "전자서명이 유효하지 않습니다.",
                InvalidInput(
                    "client_secret_sign", "Invalid", "client_secret_sign does not match client_id and timestamp"
                ),
            )
        key = _store_asked_for(app, fields)
        grant = self._tokens.grant(key.client_id, key.account_id)
        if grant.newly_issued:
            self._stats.record_token_issued(key)
        return ApiResponse(
            200, {"access_token": grant.token.value, "expires_in": grant.expires_in, "token_type": "Bearer"}
        )

    def search_products(self, store: Store, raw_body: bytes) -> ApiResponse:
        """`POST /v1/products/search` on the store the token belongs to."""
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError as error:
            raise bad_request(f"요청 본문이 올바른 JSON이 아닙니다: {error}") from error
        page = run_search(store.catalog, SearchRequest.from_json(body))
        return ApiResponse(200, search_response(page, self._root_url, store.media_slug))

    def product_detail(self, store: Store, raw_origin_product_no: str) -> ApiResponse:
        """`GET /v2/products/origin-products/{originProductNo}`; deleted products are not found."""
        catalog = store.catalog
        product = (
            catalog.get(int(raw_origin_product_no))
            if raw_origin_product_no.isascii() and raw_origin_product_no.isdigit()
            else None
        )
        if product is None or product.is_deleted:
            raise product_not_found(raw_origin_product_no)
        return ApiResponse(200, detail_response(product, catalog.seed, self._root_url, store.media_slug))


def _check_token_form(fields: Mapping[str, str]) -> None:
    missing = [
        InvalidInput(name, "NotBlank", f"{name}은(는) 필수 입력 항목입니다.")
        for name in _REQUIRED_TOKEN_FIELDS
        if not fields.get(name)
    ]
    if missing:
        raise bad_request("필수 입력 항목이 누락되었습니다.", *missing)
    if fields["grant_type"] != "client_credentials":
        raise bad_request(
            "grant_type은 client_credentials여야 합니다.",
            InvalidInput("grant_type", "Pattern", "client_credentials만 사용할 수 있습니다."),
        )
    if fields["type"] not in TOKEN_TYPES:
        raise bad_request(
            "type은 SELF 또는 SELLER여야 합니다.", InvalidInput("type", "Pattern", "type must be SELF or SELLER")
        )


def _check_timestamp(timestamp: str) -> None:
    if not _TIMESTAMP_PATTERN.fullmatch(timestamp):
        raise bad_request(
            "timestamp 형식이 올바르지 않습니다.",
            InvalidInput("timestamp", "Pattern", "밀리초 단위 Unix 시간(13자리)이어야 합니다."),
        )
    age_ms = now_ms() - int(timestamp)
    if age_ms < -TIMESTAMP_FUTURE_SKEW_MS:
        raise bad_request(
            "timestamp가 서버 시간보다 미래입니다.",
            InvalidInput("timestamp", "Range", f"timestamp is {-age_ms} ms in the future"),
        )
    if age_ms > TIMESTAMP_MAX_AGE_MS:
        raise bad_request(
            "timestamp가 만료되었습니다.",
            InvalidInput("timestamp", "Range", f"timestamp is {age_ms} ms old; at most 5 minutes allowed"),
        )


def _store_asked_for(app: AppEntry, fields: Mapping[str, str]) -> StoreKey:
    """Whose token this is: a SELF app's own, or one seller's of a SELLER-type app (after the signature).

    A wrong type is a 400 on `type`; a seller the app does not serve is a 403 on `account_id`.
    """
    if fields["type"] != app.token_type:
        kind = "SELLER-type solution" if app.is_seller_app else "SELF"
        raise bad_request(
            f"type은 {app.token_type}여야 합니다.",
            InvalidInput("type", "Invalid", f"this is a {kind} app: it takes type={app.token_type} only"),
        )
    if not app.is_seller_app:
        return StoreKey(app.client_id)
    account_id = fields.get("account_id")
    if not account_id:
        raise bad_request(
            "필수 입력 항목이 누락되었습니다.",
            InvalidInput("account_id", "NotBlank", "type=SELLER needs the account_id of the seller"),
        )
    if account_id not in app.accounts:
        raise forbidden(
            "해당 판매자에 대한 권한이 없습니다.",
            InvalidInput("account_id", "Invalid", "no seller with this account_id uses this app"),
        )
    return StoreKey(app.client_id, account_id)
