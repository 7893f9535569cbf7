"""The sync as the original service did it, kept only to measure ours against.

List every page one after another, then fetch every listed product's detail with
`ThreadPoolExecutor(max_workers=8)`; a 429 or 5xx is retried after an exponential backoff
(1 s, 2 s, 4 s, ..., the textbook `sleep(2 ** attempt)`, no jitter). No client-side pacing, no
reading of the rate-limit headers, no incremental skipping, no overlap of listing and detail
calls. It writes through the same CatalogStore as ours, so both syncs do the same database work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from resources.commerce_api.models import ListedProduct, PayloadError, ProductDetail
from resources.commerce_api.signature import client_secret_sign
from resources.store import DELETED, CatalogStore, SyncError, UpsertCounts

TOKEN_PATH = "/v1/oauth2/token"
SEARCH_PATH = "/v1/products/search"
DETAIL_PATH = "/v2/products/origin-products/{origin_product_no}"
TOKEN_TIMESTAMP_BACKDATE_MS = 2_000
ALL_STATUS_TYPES = (
    "WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE",
)


class BaselineApiError(RuntimeError):
    """A call the baseline gave up on (after its retries, or a status it does not retry)."""

    def __init__(self, message: str, *, path: str, status: int | None, origin_product_no: int | None = None) -> None:
        self.path = path
        self.status = status
        self.origin_product_no = origin_product_no
        super().__init__(f"{path}: HTTP {status}: {message}")


@dataclass
class BaselineReport:
    """What the baseline sync did, in the same terms as SyncReport where they overlap."""

    pages: int = 0
    listed: int = 0
    needs_detail: int = 0
    details_fetched: int = 0
    errors: list[SyncError] = field(default_factory=list)
    upsert: UpsertCounts = field(default_factory=UpsertCounts)
    list_seconds: float = 0.0
    detail_phase_seconds: float = 0.0
    db_seconds: float = 0.0
    total_seconds: float = 0.0
    # Wire time of each logical detail call (every attempt of it), backoff sleeps excluded.
    detail_seconds: list[float] = field(default_factory=list)
    requests: dict[str, dict[str, int]] = field(default_factory=dict)  # api -> status -> count, client side
    retries: int = 0

    @property
    def total_429(self) -> int:
        return sum(by_status.get("429", 0) for by_status in self.requests.values())


class BaselineClient:
    """The original service's HTTP client: one token, retries with plain exponential backoff.

    `backoff_base_seconds` is a parameter so the report can show how much the comparison
    depends on it.
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        max_retries: int = 8,
        backoff_base_seconds: float = 1.0,
        backoff_max_seconds: float = 30.0,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.max_retries = max_retries
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_seconds,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )
        self._token: str | None = None
        self._lock = threading.Lock()
        self.requests: dict[str, dict[str, int]] = {}
        self.retries = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BaselineClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _count(self, api: str, status: int | None) -> None:
        key = str(status) if status is not None else "error"
        with self._lock:
            by_status = self.requests.setdefault(api, {})
            by_status[key] = by_status.get(key, 0) + 1

    def token(self) -> str:
        with self._lock:
            if self._token is not None:
                return self._token
        timestamp = int(time.time() * 1000) - TOKEN_TIMESTAMP_BACKDATE_MS
        form = {
            "client_id": self.client_id,
            "timestamp": str(timestamp),
            "grant_type": "client_credentials",
            "client_secret_sign": client_secret_sign(self.client_id, timestamp, self._client_secret),
            "type": "SELF",
        }
        payload, _ = self._request("token", "POST", TOKEN_PATH, data=form, authenticated=False)
        with self._lock:
            self._token = str(payload["access_token"])
            return self._token

    def _request(
        self,
        api: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: dict[str, str] | None = None,
        authenticated: bool = True,
        origin_product_no: int | None = None,
    ) -> tuple[Any, float]:
        """The response's JSON and the wire seconds of every attempt it took."""
        wire_seconds = 0.0
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} if authenticated else {}
            started = time.perf_counter()
            try:
                response = self._http.request(method, path, json=json_body, data=data, headers=headers)
                status: int | None = response.status_code
            except httpx.TransportError as exc:
                response, status = None, None
                error_text = type(exc).__name__
            wire_seconds += time.perf_counter() - started
            self._count(api, status)
            if response is not None and status is not None and status < 300:
                return response.json(), wire_seconds
            retryable = status is None or status == 429 or status >= 500
            if not retryable or attempt >= self.max_retries:
                message = error_text if response is None else response.text[:200]
                raise BaselineApiError(message, path=path, status=status, origin_product_no=origin_product_no)
            attempt += 1
            with self._lock:
                self.retries += 1
            time.sleep(min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1)))

    def search(self, page: int, size: int) -> dict[str, Any]:
        body = {"page": page, "size": size, "orderType": "NO", "productStatusTypes": list(ALL_STATUS_TYPES)}
        payload, _ = self._request("search", "POST", SEARCH_PATH, json_body=body)
        return payload

    def detail(self, origin_product_no: int) -> tuple[ProductDetail, float]:
        path = DETAIL_PATH.format(origin_product_no=origin_product_no)
        payload, wire_seconds = self._request("detail", "GET", path, origin_product_no=origin_product_no)
        return ProductDetail.from_payload(origin_product_no, payload), wire_seconds


@contextmanager
def _timed(report: BaselineReport, attribute: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        setattr(report, attribute, getattr(report, attribute) + time.perf_counter() - started)


def run_baseline_sync(
    client: BaselineClient,
    store: CatalogStore,
    *,
    page_size: int = 500,
    max_workers: int = 8,
    write_chunk_rows: int = 200,
) -> BaselineReport:
    """List all pages, then fetch every live product's detail with 8 threads, writing as they land."""
    report = BaselineReport()
    started = time.perf_counter()
    to_fetch: list[int] = []
    page = 1
    while True:
        payload = client.search(page, page_size)
        listed = []
        for entry in payload.get("contents", []):
            try:
                listed.append(ListedProduct.from_search_entry(entry))
            except PayloadError as exc:
                report.errors.append(SyncError(None, "search", None, "MALFORMED_ENTRY", str(exc)))
        report.pages += 1
        report.listed += len(listed)
        with _timed(report, "db_seconds"):
            written = store.write_listing(listed)
        report.upsert += written.deleted_upsert
        # The original service fetched every live product's detail on every run.
        to_fetch.extend(p.origin_product_no for p in listed if p.status_type != DELETED)
        if payload.get("last") or page >= int(payload.get("totalPages", page)) or not payload.get("contents"):
            break
        page += 1
    report.list_seconds = time.perf_counter() - started
    report.needs_detail = len(to_fetch)

    detail_started = time.perf_counter()
    fetched: list[ProductDetail] = []
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="baseline-detail") as pool:
        futures = {pool.submit(client.detail, number): number for number in to_fetch}
        for future in as_completed(futures):
            number = futures[future]
            try:
                detail, wire_seconds = future.result()
            except (BaselineApiError, PayloadError) as exc:
                status = exc.status if isinstance(exc, BaselineApiError) else None
                report.errors.append(SyncError(number, "detail", status, None, str(exc)))
                continue
            report.details_fetched += 1
            report.detail_seconds.append(wire_seconds)
            fetched.append(detail)
            if len(fetched) >= write_chunk_rows:
                with _timed(report, "db_seconds"):
                    report.upsert += store.apply_details(fetched)
                fetched.clear()
    if fetched:
        with _timed(report, "db_seconds"):
            report.upsert += store.apply_details(fetched)
    report.detail_phase_seconds = time.perf_counter() - detail_started
    report.requests = {api: dict(by_status) for api, by_status in client.requests.items()}
    report.retries = client.retries
    report.total_seconds = time.perf_counter() - started
    return report
