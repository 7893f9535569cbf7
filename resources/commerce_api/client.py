"""The Commerce API client: signed token, paced calls, bounded retries, per-call records.

Thread-safe: one client serves every detail-fetch worker of a sync.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

import httpx

from .access import CONNECT_RETRIES, Refusal, bad_secret_line, gateway_refusal, token_refusal, unreachable
from .call_stats import CallRecord, CallStats
from .errors import (
    ApiAccessError,
    ApiUnreachableError,
    AuthenticationError,
    CredentialsRefusedError,
    ClientRequestError,
    CommerceApiError,
    ImageTooLargeError,
    ImageTooSlowError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    TransientError,
)
from .http_client import new_http_client
from .models import ListedProduct, PayloadError, ProductDetail, SearchPage
from .rate_limit import DEFAULT_SAFETY, AdvertisedLimit, Pacer, floor_seconds
from .retry import RetryPolicy
from .signature import client_secret_sign
from .token_cache import TokenCache

DEFAULT_BASE_URL = "https://api.commerce.naver.com/external"
TOKEN_PATH = "/v1/oauth2/token"
SEARCH_PATH = "/v1/products/search"
DETAIL_PATH = "/v2/products/origin-products/{origin_product_no}"
TRACE_ID_HEADER = "GNCP-GW-Trace-ID"
MAX_PAGE_SIZE = 500
# The token timestamp must not be in the server's future; public clients backdate a little.
TOKEN_TIMESTAMP_BACKDATE_MS = 2_000

APIS = ("token", "search", "detail")
# A picture or video must arrive whole within this (each read is also bounded by the timeout).
IMAGE_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class ApiResponse:
    payload: Any
    status: int
    trace_id: str | None


@dataclass
class _CallState:
    """One call across its attempts: what its errors and its CallRecord say."""

    api: str
    method: str
    path: str
    product_no: int | None
    retry: RetryPolicy
    backoff: Callable[[int], float]
    sleep: Callable[[float], None]
    attempts: int = 0
    retries: int = 0
    reauthenticated: bool = False
    wire_seconds: float = 0.0
    pacer_wait: float = 0.0
    status: int | None = None

    def fail(self, kind: type[CommerceApiError], message: str, code: str | None = None,
             trace: str | None = None) -> NoReturn:
        raise kind(message, api=self.api, method=self.method, path=self.path, status=self.status, code=code,
                   trace_id=trace, attempts=self.attempts, product_no=self.product_no)

    def retry_or(self, kind: type[CommerceApiError], message: str, code: str | None = None,
                 trace: str | None = None) -> None:
        """Back off before the next attempt; raise `kind` instead when the retries are spent."""
        if self.retries >= self.retry.max_retries:
            self.fail(kind, message, code, trace)
        self.retries += 1
        self.sleep(self.backoff(self.retries))

    def record(self) -> CallRecord:
        return CallRecord(api=self.api, method=self.method, path=self.path, status=self.status,
                          latency_seconds=self.wire_seconds, attempts=self.attempts,
                          pacer_wait_seconds=self.pacer_wait, product_no=self.product_no)


def new_pacers(rate: float, safety: float) -> dict[str, Pacer]:
    """A pacer per API, as one app's buckets are one per API."""
    return {api: Pacer(api, rate=rate, safety=safety) for api in APIS}


class CommerceApiClient:
    """Talks to the Commerce API at `base_url`. Never logs, stores or raises the secret or token."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        account_id: str | None = None,
        timeout_seconds: float = 10.0,
        initial_rate_per_second: float = 2.0,
        pacing_safety: float = DEFAULT_SAFETY,
        retry: RetryPolicy | None = None,
        token_refresh_margin_seconds: float = 300.0,
        max_connections: int = 64,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
        pacers: dict[str, Pacer] | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("NAVER_COMMERCE_CLIENT_ID and NAVER_COMMERCE_CLIENT_SECRET must both be set")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        # A seller served by a SELLER-type solution app: the token is asked for this account.
        self.account_id = account_id
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._wall_clock = wall_clock  # signs the token's timestamp; a test sets it wrong on purpose
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        timeout = httpx.Timeout(timeout_seconds)
        self._http = new_http_client(base_url=self.base_url, timeout=timeout, limits=limits, transport=transport)
        # Images come from the CDN: no token, no API rate limit, so a client of their own.
        self._images = new_http_client(timeout=timeout, limits=limits, transport=transport, follow_redirects=True)
        # The buckets belong to the app: clients of one app's sellers in one process are given
        # the same pacers (CommerceApiResource.client_for), so together they keep the app's pace.
        self.pacers = pacers if pacers is not None else new_pacers(initial_rate_per_second, pacing_safety)
        self.stats = CallStats()
        self.tokens = TokenCache(self._request_token, refresh_margin_seconds=token_refresh_margin_seconds)

    def __repr__(self) -> str:
        return f"CommerceApiClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._http.close()
        self._images.close()

    def __enter__(self) -> CommerceApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def rate_limit_floor_seconds(self) -> float:
        """The honest lower bound for the product calls made so far: per API, the requests beyond
        the burst divided by the replenish rate; the larger of search and detail."""
        requests = self.stats.requests_by_endpoint()
        # A refused (429) request takes no token from the server's bucket, so it costs no floor.
        return max(
            floor_seconds(
                sum(n for status, n in requests.get(api, {}).items() if status != "429"),
                pacer.advertised_rate,
                pacer.advertised_burst,
            )
            for api, pacer in self.pacers.items()
            if api != "token"
        )

    # -- the documented calls -------------------------------------------------------------

    def search_products(
        self,
        *,
        page: int = 1,
        size: int = MAX_PAGE_SIZE,
        status_types: Sequence[str] | None = None,
        order_type: str = "NO",
        modified_from: date | None = None,
        modified_to: date | None = None,
    ) -> SearchPage:
        """One page of `POST /v1/products/search`; entries that do not parse are reported, not raised."""
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}, got {size}")
        body: dict[str, Any] = {"page": page, "size": size, "orderType": order_type}
        if status_types:
            body["productStatusTypes"] = list(status_types)
        if modified_from or modified_to:
            body["periodType"] = "PROD_MOD_DAY"
            body["fromDate"] = (modified_from or modified_to).isoformat()  # type: ignore[union-attr]
            body["toDate"] = (modified_to or modified_from).isoformat()  # type: ignore[union-attr]
        response = self._call("search", "POST", SEARCH_PATH, json_body=body)
        payload = response.payload
        try:
            entries = payload["contents"]
            products, bad = [], []
            for entry in entries:
                try:
                    products.append(ListedProduct.from_search_entry(entry))
                except PayloadError as exc:
                    bad.append((_entry_number(entry), str(exc)))
            return SearchPage(
                page=int(payload.get("page", page)),
                size=int(payload.get("size", size)),
                total_elements=int(payload["totalElements"]),
                total_pages=int(payload["totalPages"]),
                last=bool(payload.get("last", page >= int(payload["totalPages"]))),
                products=tuple(products),
                bad_entries=tuple(bad),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"search page has no {exc}", api="search", method="POST", path=SEARCH_PATH,
                status=response.status, trace_id=response.trace_id,
            ) from None

    def iter_search_pages(self, **filters: Any) -> Iterator[SearchPage]:
        """Every page of a search, in order, until the last one."""
        page = 1
        while True:
            result = self.search_products(page=page, **filters)
            yield result
            if result.last or page >= result.total_pages or not result.products and not result.bad_entries:
                return
            page += 1

    def get_origin_product(self, origin_product_no: int) -> ProductDetail:
        """`GET /v2/products/origin-products/{no}`, parsed; raises NotFoundError for deleted products."""
        path = DETAIL_PATH.format(origin_product_no=origin_product_no)
        response = self._call("detail", "GET", path, product_no=origin_product_no)
        try:
            return ProductDetail.from_payload(origin_product_no, response.payload)
        except PayloadError as exc:
            raise MalformedResponseError(
                str(exc), api="detail", method="GET", path=path, status=response.status,
                trace_id=response.trace_id, product_no=origin_product_no,
            ) from None

    def fetch_image(self, url: str, max_bytes: int | None = None,
                    deadline_seconds: float = IMAGE_DEADLINE_SECONDS, *, retries: int | None = None) -> bytes:
        """Download an image (or video) from the CDN, retrying transport errors and 5xx (`retries`
        times, by default the retry policy's). An answer over `max_bytes` or slower than
        `deadline_seconds` in all is refused as soon as it is seen to be (ImageTooLargeError,
        ImageTooSlowError), without a retry: a huge or dripping file never holds a download thread
        or memory for long."""
        max_retries = self.retry.max_retries if retries is None else retries
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._images.stream("GET", url) as response:
                    if response.status_code < 500:
                        response.raise_for_status()
                        return _read_bounded(response, url, max_bytes, deadline_seconds)
                    error: Exception = httpx.HTTPStatusError(
                        f"HTTP {response.status_code}", request=response.request, response=response
                    )
            except httpx.TransportError as exc:
                error = exc
            if attempt > max_retries:
                raise error
            self._sleep(self._backoff(attempt))

    # -- token ------------------------------------------------------------------------------

    def _request_token(self) -> tuple[str, float]:
        timestamp = int(self._wall_clock() * 1000) - TOKEN_TIMESTAMP_BACKDATE_MS
        try:
            sign = client_secret_sign(self.client_id, timestamp, self._client_secret)
        except ValueError:
            raise CredentialsRefusedError(bad_secret_line(self.client_id), api="token", method="POST",
                                          path=TOKEN_PATH, attempts=0) from None
        form = {
            "client_id": self.client_id,
            "timestamp": str(timestamp),
            "grant_type": "client_credentials",
            "client_secret_sign": sign,
            "type": "SELLER" if self.account_id else "SELF",
        }
        if self.account_id:
            form["account_id"] = self.account_id
        try:
            response = self._call("token", "POST", TOKEN_PATH, form_body=form, authenticated=False)
        except ApiAccessError:
            raise
        except (ClientRequestError, NotFoundError) as exc:
            raise AuthenticationError(
                f"token request refused: {exc.code or ''}", api="token", method="POST", path=TOKEN_PATH,
                status=exc.status, code=exc.code, trace_id=exc.trace_id, attempts=exc.attempts,
            ) from None
        try:
            return str(response.payload["access_token"]), float(response.payload["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise MalformedResponseError(
                "token response lacks access_token/expires_in", api="token", method="POST",
                path=TOKEN_PATH, status=response.status, trace_id=response.trace_id,
            ) from None

    # -- the call loop ----------------------------------------------------------------------

    def _backoff(self, retry_number: int) -> float:
        with self._rng_lock:
            return self.retry.delay(retry_number, self._rng)

    def _call(
        self,
        api: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form_body: dict[str, str] | None = None,
        authenticated: bool = True,
        product_no: int | None = None,
    ) -> ApiResponse:
        """One documented call: paced attempts until an answer is judged final, then one record."""
        pacer = self.pacers[api]
        call = _CallState(api, method, path, product_no, self.retry, self._backoff, self._sleep)
        try:
            while True:
                call.attempts += 1
                # Before the pacer, not after: a slot taken and then held while the token is
                # fetched would be spent in our bucket long before it reaches the server's.
                token = self.tokens.get() if authenticated else ""
                headers = {"Authorization": f"Bearer {token}"} if authenticated else {}
                call.pacer_wait += pacer.acquire()
                response, latency = self._attempt(api, method, path, headers, json_body, form_body)
                call.wire_seconds += latency
                answer = self._judge(call, response, authenticated=authenticated, token=token)
                if answer is not None:
                    return answer
        finally:
            self.stats.record_call(call.record())

    def _judge(
        self, call: _CallState, response: httpx.Response | httpx.TransportError, *, authenticated: bool, token: str
    ) -> ApiResponse | None:
        """What one attempt's answer means: the response (success); None, to attempt again (after
        a backoff, or once with a fresh token); or the error, raised."""
        if isinstance(response, httpx.TransportError):
            call.status = None
            no_connection = unreachable(self.base_url, response)
            if no_connection is not None and call.retries >= min(self.retry.max_retries, CONNECT_RETRIES):
                call.fail(ApiUnreachableError, no_connection)
            call.retry_or(TransientError, f"{type(response).__name__} talking to the API")
            return None
        status = call.status = response.status_code
        trace = response.headers.get(TRACE_ID_HEADER)

        if status < 300:
            try:
                return ApiResponse(json.loads(response.content), status, trace)
            except ValueError:
                # A truncated body is a transfer fault more often than a bad payload.
                call.retry_or(MalformedResponseError, "response body is not valid JSON", trace=trace)
                return None

        code, message = _error_fields(response)
        refusal = self._refusal(call.api, response, code, message)
        if refusal is not None:
            call.fail(*refusal, code, trace)
        if status == 401 and authenticated and not call.reauthenticated:
            # The documented remedy: a fresh token, then the call once more.
            call.reauthenticated = True
            self.tokens.refresh(token)
            return None
        if status == 429:
            self.pacers[call.api].penalize()
            call.retry_or(RateLimitedError, message or "rate limited", code, trace)
            return None
        if status >= 500:
            call.retry_or(TransientError, message or "server error", code, trace)
            return None
        if status == 404:
            call.fail(NotFoundError, message or "not found", code, trace)
        if status == 401:
            call.fail(AuthenticationError, "a fresh token was refused too", code, trace)
        call.fail(ClientRequestError, message or "request refused", code, trace)

    def _attempt(
        self, api: str, method: str, path: str, headers: dict[str, str], json_body: Any, form_body: dict[str, str] | None
    ) -> tuple[httpx.Response | httpx.TransportError, float]:
        """One request on the wire: timed, recorded, and its rate-limit headers handed to the pacer."""
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, json=json_body, data=form_body, headers=headers)
        except httpx.TransportError as exc:
            latency = time.perf_counter() - started
            self.stats.record_attempt(api, None, latency)
            return exc, latency
        latency = time.perf_counter() - started
        self.stats.record_attempt(api, response.status_code, latency)
        limit = AdvertisedLimit.from_headers(response.headers)
        if limit is not None:
            self.pacers[api].observe(limit)
        return response, latency

    def _refusal(self, api: str, response: httpx.Response, code: str | None, message: str | None) -> Refusal | None:
        """An answer that means no call can succeed from here: stop now, say why in one line."""
        refusal = gateway_refusal(response, code, self.client_id)
        if refusal is None and api == "token":
            refusal = token_refusal(response, code, message, self.client_id, self._wall_clock)
        return refusal


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    """The `code` and `message` of an error body, if it has them."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    message = body.get("message")
    return (str(code) if code is not None else None, str(message) if message is not None else None)


def _entry_number(entry: Any) -> int | None:
    """The originProductNo of a search entry that did not parse, when it has a usable one."""
    number = entry.get("originProductNo") if isinstance(entry, dict) else None
    try:
        return int(number) if number is not None and not isinstance(number, bool) else None
    except (TypeError, ValueError):
        return None


def _read_bounded(response: httpx.Response, url: str, max_bytes: int | None, deadline_seconds: float) -> bytes:
    """The body of a CDN answer, refused once it passes `max_bytes` or `deadline_seconds`."""
    deadline = time.monotonic() + deadline_seconds
    length = response.headers.get("Content-Length", "")
    if max_bytes is not None and length.isdigit() and int(length) > max_bytes:
        raise ImageTooLargeError(f"{int(length):,} bytes, more than the {max_bytes:,} allowed: {url}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise ImageTooLargeError(f"more than the {max_bytes:,} bytes allowed: {url}")
        if time.monotonic() > deadline:
            raise ImageTooSlowError(f"not received whole within {deadline_seconds:g} s: {url}")
        chunks.append(chunk)
    return b"".join(chunks)
