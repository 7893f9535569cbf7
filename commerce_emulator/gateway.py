"""The API gateway in front of the Commerce API: quota penalty, rate limit, faults, auth, latency, headers.

The order mirrors the real gateway: a request first spends a rate-limit token (a seller's own
quota first, then the app's bucket), then may be faulted, and only then is its access token checked.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

from .api_errors import (
    ApiError,
    authentication_failed,
    internal_error,
    product_not_found,
    quota_limited,
    rate_limited,
    route_not_found,
    service_unavailable,
)
from .commerce_api import ApiResponse, CommerceApi
from .config import EmulatorConfig
from .faults import FaultInjector, LatencyModel
from .kst import now_ms
from .penalty import TOKEN_QUERY_FIELDS, QueryStringPenalty
from .rate_limit import RateDecision, RateLimiter
from .replies import RESET, Reply, encode_json
from .seller_quota import SellerQuota
from .stats import EmulatorStats
from .stores import AppEntry, Store, StoreDirectory, StoreKey
from .tokens import TokenStore

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
IP_NOT_ALLOWED_MESSAGE = "허용되지 않은 IP입니다."
# Requests the gateway cannot tie to a known application share one bucket.
ANONYMOUS_CLIENT = "anonymous"

_TRACE_PREFIX = secrets.token_hex(4)
_trace_sequence = itertools.count(1)


def new_trace_id() -> str:
    """A fresh id shaped like the gateway's (`host^epoch-ms^sequence`)."""
    return f"emulator-{_TRACE_PREFIX}^{now_ms()}^{next(_trace_sequence)}"


class Gateway:
    def __init__(
        self,
        api: CommerceApi,
        stores: StoreDirectory,
        tokens: TokenStore,
        limiter: RateLimiter,
        seller_quota: SellerQuota | None,
        penalty: QueryStringPenalty,
        faults: FaultInjector,
        latency: LatencyModel,
        stats: EmulatorStats,
        stop_event: threading.Event,
        config: EmulatorConfig,
    ) -> None:
        self._api = api
        self._stores = stores
        self._tokens = tokens
        self._limiter = limiter
        self._seller_quota = seller_quota
        self._penalty = penalty
        self._faults = faults
        self._latency = latency
        self._stats = stats
        self._stop_event = stop_event
        # Read at request time, so a test may lengthen or shorten slow faults on a running server.
        self._config = config

    def token(self, body: bytes, content_type: str | None, query: str) -> Reply:
        query_fields = {name: values[-1] for name, values in parse_qs(query).items()}
        body_is_form = (content_type or "").split(";")[0].strip().lower() == FORM_CONTENT_TYPE
        fields = dict(query_fields)
        if body_is_form:
            fields.update({name: values[-1] for name, values in parse_qs(body.decode("utf-8", "replace")).items()})
        app = self._stores.app(fields.get("client_id"))
        caller = None if app is None else _token_caller(app, fields)

        def issue() -> ApiResponse:
            if body and not body_is_form:
                raise ApiError(400, "BAD_REQUEST", "요청 본문은 application/x-www-form-urlencoded 형식이어야 합니다.")
            return self._api.issue_token(fields)

        leaked = bool(TOKEN_QUERY_FIELDS.intersection(query_fields))
        return self._serve("token", caller, issue, requires_auth=False, leaked_credentials=leaked)

    def search(self, authorization: str | None, body: bytes) -> Reply:
        bearer = _bearer(authorization)
        caller = self._caller_of(bearer)
        route = functools.partial(self._with_store, caller, self._api.search_products, body)
        return self._serve("search", caller, route, bearer=bearer, requires_auth=True)

    def detail(self, authorization: str | None, raw_origin_product_no: str) -> Reply:
        bearer = _bearer(authorization)
        caller = self._caller_of(bearer)
        route = functools.partial(self._with_store, caller, self._api.product_detail, raw_origin_product_no)
        broken = self._faults.broken_product(raw_origin_product_no, caller) if caller is not None else None
        if broken is not None:
            route = functools.partial(_broken_detail, broken, route)
        return self._serve("detail", caller, route, bearer=bearer, requires_auth=True)

    def unknown_route(self) -> Reply:
        """A path the gateway has no API registered for."""
        trace_id = new_trace_id()
        error = route_not_found()
        return Reply(error.status, encode_json(error.body(trace_id)), [("GNCP-GW-Trace-ID", trace_id)])

    def _caller_of(self, bearer: str | None) -> StoreKey | None:
        # An expired token still identifies its application (and seller) for rate limiting and quota.
        token = self._tokens.lookup(bearer)
        return StoreKey(token.client_id, token.account_id) if token is not None else None

    def _with_store(self, caller: StoreKey | None, route: Callable[[Store, str | bytes], ApiResponse],
                    argument: str | bytes) -> ApiResponse:
        """Run an API route on the catalog of the store the (already validated) token belongs to."""
        store = self._stores.store(caller) if caller is not None else None
        if store is None:
            raise authentication_failed()
        return route(store, argument)

    def _serve(
        self,
        api: str,
        caller: StoreKey | None,
        route: Callable[[], ApiResponse],
        *,
        requires_auth: bool,
        bearer: str | None = None,
        leaked_credentials: bool = False,
    ) -> Reply:
        trace_id = new_trace_id()
        bucket_key = caller.client_id if caller is not None else ANONYMOUS_CLIENT
        refusal = self._refusal_before_bucket(api, caller, leaked_credentials)
        if refusal is not None:
            return self._finish(api, caller, trace_id, self._limiter.peek(api, bucket_key), refusal)

        decision = self._limiter.acquire(api, bucket_key)
        if not decision.allowed:
            self._stats.record_rate_limited()
            return self._finish(api, caller, trace_id, decision, rate_limited())

        fault = self._faults.next_fault(api)
        if fault is not None:
            faulted = self._faulted(api, caller, trace_id, decision, fault)
            if faulted is not None:
                return faulted

        try:
            if requires_auth and self._tokens.validate(bearer) is None:
                raise authentication_failed()
            outcome: ApiResponse | ApiError = route()
        except ApiError as error:
            outcome = error
        return self._finish(api, caller, trace_id, decision, outcome, truncate=fault == "malformed")

    def _refusal_before_bucket(self, api: str, caller: StoreKey | None, leaked_credentials: bool) -> ApiError | None:
        """The query-string penalty and a seller's own quota, both answered before the app's bucket."""
        if caller is None:
            return None
        if not self._penalty.admit(caller.client_id):
            self._stats.record_quota_limited(caller)
            return quota_limited()
        if leaked_credentials:
            self._penalty.penalise(caller.client_id)
        if self._seller_quota is not None and caller.account_id is not None:
            refusal = self._seller_quota.refusal(api, caller)
            if refusal is not None:
                self._stats.record_quota_limited(caller)
                return refusal
        return None

    def _faulted(
        self, api: str, caller: StoreKey | None, trace_id: str, decision: RateDecision, fault: str
    ) -> Reply | None:
        """The reply a fault makes, or None when the request goes on (slow once its wait is over, malformed)."""
        self._stats.record_fault(fault)
        if fault == "reset":
            self._stats.record_response(api, "reset", caller)
            return RESET
        if fault == "slow" and self._stop_event.wait(self._config.slow_seconds):
            # The emulator is stopping: drop the request rather than hold shutdown.
            self._stats.record_response(api, "reset", caller)
            return RESET
        injected_error = _injected_error(fault, api)
        if injected_error is None:
            return None
        if fault == "429":
            self._stats.record_rate_limited()
        elif fault == "quota_limit":
            self._stats.record_quota_limited(caller)
        return self._finish(api, caller, trace_id, decision, injected_error)

    def _finish(
        self,
        api: str,
        caller: StoreKey | None,
        trace_id: str,
        decision: RateDecision,
        outcome: ApiResponse | ApiError,
        *,
        truncate: bool = False,
    ) -> Reply:
        headers = [("GNCP-GW-Trace-ID", trace_id), *decision.headers()]
        if isinstance(outcome, ApiError):
            status, payload = outcome.status, encode_json(outcome.body(trace_id))
            headers.extend(outcome.headers)
        else:
            status, payload = outcome.status, encode_json(outcome.body)
        if truncate:
            # Cut mid-document; Content-Length will match, so only JSON parsing fails.
            payload = payload[: max(1, len(payload) // 2)]
        delay = self._latency.sample_seconds()
        if delay > 0:
            self._stop_event.wait(delay)
        self._stats.record_response(api, str(status), caller)
        return Reply(status, payload, headers)


def _token_caller(app: AppEntry, fields: dict[str, str]) -> StoreKey:
    """Whom a token request counts against: the app, and the seller it names if the app serves that seller."""
    account_id = fields.get("account_id")
    if app.is_seller_app and fields.get("type") == "SELLER" and account_id in app.accounts:
        return StoreKey(app.client_id, account_id)
    return StoreKey(app.client_id)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _broken_detail(kind: str, route: Callable[[], ApiResponse]) -> ApiResponse:
    """A broken product's detail (faults.BROKEN_PRODUCT_KINDS), after the token was checked."""
    if kind == "404":
        raise product_not_found()
    answer = route()
    origin = dict(answer.body["originProduct"], salePrice=-1)
    return ApiResponse(answer.status, {**answer.body, "originProduct": origin})


def _injected_error(fault: str, api: str) -> ApiError | None:
    if fault == "401":
        return authentication_failed()
    if fault == "429":
        return rate_limited()
    if fault == "500":
        return internal_error()
    if fault == "503":
        return service_unavailable()
    if fault == "404":
        return product_not_found() if api == "detail" else route_not_found()
    if fault == "ip_not_allowed":
        return ApiError(403, "GW.IP_NOT_ALLOWED", IP_NOT_ALLOWED_MESSAGE)
    if fault == "quota_limit":
        return quota_limited()
    return None
