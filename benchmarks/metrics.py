"""The figures a sync is judged by, computed from the emulator's own counts so both clients are judged alike.

`floor_seconds` is the least time the calls that got through could have taken under the server's
token buckets: per API, the requests beyond the burst divided by the replenish rate, and the
larger of search and detail (their buckets are separate and run side by side). A refused request
(429) takes no token, so it costs no floor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from resources.commerce_api import percentile

FLOOR_APIS = ("search", "detail")
# The gateway's burst capacity is twice the replenish rate (at least one request).
BURST_PER_RATE = 2.0

ServerRequests = Mapping[str, Mapping[str, int]]  # api -> HTTP status (as text) -> responses


def burst_capacity(rate_per_second: float) -> float:
    return max(1.0, BURST_PER_RATE * rate_per_second)


def admitted_requests(requests: ServerRequests, api: str) -> int:
    """Responses of `api` other than 429: each took a token from the server's bucket."""
    return sum(n for status, n in requests.get(api, {}).items() if status != "429")


def floor_seconds(requests: ServerRequests, rate_per_second: float) -> float:
    """The rate-limit floor of these server-side counts at one replenish rate for every API."""
    burst = burst_capacity(rate_per_second)
    return max(
        max(0.0, admitted_requests(requests, api) - burst) / rate_per_second for api in FLOOR_APIS
    )


def count_status(requests: ServerRequests, status: str) -> int:
    return sum(by_status.get(status, 0) for by_status in requests.values())


def api_calls(requests: ServerRequests) -> int:
    """Every response of the token, search and detail APIs, whatever its status."""
    return sum(sum(by_status.values()) for by_status in requests.values())


def ratio_429(requests: ServerRequests) -> float:
    calls = api_calls(requests)
    return count_status(requests, "429") / calls if calls else 0.0


def latency_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds (nearest rank, the project's `percentile`)."""
    figures: dict[str, float | None] = {}
    for q in (50, 95, 99):
        value = percentile(list(seconds), q)
        figures[f"p{q}"] = None if value is None else round(value * 1000, 2)
    return figures


def sync_figures(
    *,
    products: int,
    rate_per_s: float,
    wall_seconds: float,
    requests: ServerRequests,
    detail_call_seconds: Sequence[float],
) -> dict[str, object]:
    """The issue's keys for one sync, from the server's counts and the client's wire times."""
    floor = floor_seconds(requests, rate_per_s)
    percentiles = latency_ms(detail_call_seconds)
    return {
        "products": products,
        "rate_per_s": rate_per_s,
        "floor_seconds": round(floor, 3),
        "wall_seconds": round(wall_seconds, 3),
        "efficiency": round(floor / wall_seconds, 4) if wall_seconds > 0 else None,
        "ratio_429": round(ratio_429(requests), 5),
        "detail_p50_ms": percentiles["p50"],
        "detail_p95_ms": percentiles["p95"],
        "detail_p99_ms": percentiles["p99"],
        "api_calls": api_calls(requests),
        "responses_429": count_status(requests, "429"),
        "server_requests": {api: dict(by_status) for api, by_status in requests.items()},
    }
