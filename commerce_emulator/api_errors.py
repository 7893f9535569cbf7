"""Error responses of the Commerce API, in the two shapes it uses.

Gateway errors (codes starting "GW.") carry a `traceId` in the body; errors of
the API servers behind it carry `invalidInputs` when a field is at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .kst import now_iso_kst

AUTHN_MESSAGE = "요청을 보낼 권한이 없습니다."
RATE_LIMIT_MESSAGE = "요청이 많아 서비스를 일시적으로 사용할 수 없습니다."
QUOTA_LIMIT_MESSAGE = "할당된 시간당 요청량을 초과하였습니다."
SELLER_QUOTA_LIMIT_MESSAGE = "판매자별 할당된 초당 요청량을 초과하였습니다."
INTERNAL_ERROR_MESSAGE = "작업 중 오류가 발생하였습니다."
UNAVAILABLE_MESSAGE = "서비스를 일시적으로 사용할 수 없습니다."
ROUTE_NOT_FOUND_MESSAGE = "요청하신 리소스를 찾을 수 없습니다."


@dataclass(frozen=True)
class InvalidInput:
    name: str
    type: str
    message: str

    def as_json(self) -> dict:
        return {"name": self.name, "type": self.type, "message": self.message}


@dataclass
class ApiError(Exception):
    """An error response; raise it anywhere in a route and the gateway sends it."""

    status: int
    code: str
    message: str
    invalid_inputs: list[InvalidInput] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    @property
    def is_gateway_error(self) -> bool:
        return self.code.startswith("GW.")

    def body(self, trace_id: str) -> dict:
        body: dict = {"code": self.code, "message": self.message, "timestamp": now_iso_kst()}
        if self.is_gateway_error:
            body["traceId"] = trace_id
        if self.invalid_inputs:
            body["invalidInputs"] = [invalid.as_json() for invalid in self.invalid_inputs]
        return body


def bad_request(message: str, *invalid_inputs: InvalidInput) -> ApiError:
    return ApiError(400, "BAD_REQUEST", message, list(invalid_inputs))


def forbidden(message: str, *invalid_inputs: InvalidInput) -> ApiError:
    return ApiError(403, "FORBIDDEN", message, list(invalid_inputs))


def product_not_found(origin_product_no: int | str | None = None) -> ApiError:
    suffix = "" if origin_product_no is None else f" (originProductNo={origin_product_no})"
    return ApiError(404, "NOT_FOUND", f"상품이 존재하지 않습니다.{suffix}")


def authentication_failed() -> ApiError:
    return ApiError(401, "GW.AUTHN", AUTHN_MESSAGE)


def rate_limited() -> ApiError:
    # Deliberately no Retry-After: the real gateway sends none, clients must pace themselves.
    return ApiError(429, "GW.RATE_LIMIT", RATE_LIMIT_MESSAGE)


def quota_limited() -> ApiError:
    return ApiError(
        429,
        "GW.QUOTA_LIMIT",
        QUOTA_LIMIT_MESSAGE,
        headers=[("GNCP-GW-Quota-Period", "HOURS"), ("GNCP-GW-Quota-Limit", "1")],
    )


def seller_quota_limited(limit: str, remaining: int) -> ApiError:
    """A seller account over its own per-second quota (a SELLER-type app's), unlike the hourly penalty."""
    return ApiError(
        429,
        "GW.QUOTA_LIMIT",
        SELLER_QUOTA_LIMIT_MESSAGE,
        headers=[
            ("GNCP-GW-Quota-Period", "SECONDS"),
            ("GNCP-GW-Quota-Limit", limit),
            ("GNCP-GW-Quota-Remaining", str(remaining)),
        ],
    )


def internal_error() -> ApiError:
    return ApiError(500, "GW.INTERNAL_SERVER_ERROR", INTERNAL_ERROR_MESSAGE)


def service_unavailable() -> ApiError:
    return ApiError(503, "GW.BLOCK.01", UNAVAILABLE_MESSAGE)


def route_not_found() -> ApiError:
    return ApiError(404, "GW.NOT_FOUND", ROUTE_NOT_FOUND_MESSAGE)
