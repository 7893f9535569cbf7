"""Throughput and latency: keep-alive requests must not stall, and added latency must be what was asked."""

import threading
import time

import httpx

from commerce_emulator.faults import LatencyModel

from tests.support.emulator_calls import detail_path, fetch_token


def test_serves_hundreds_of_keep_alive_requests_per_second(emulator):
    """A floor far below the ~1,000/s target (this machine is shared), yet above what per-request
    stalls allow: a 40 ms delayed ACK caps each connection at 25/s, 100/s for these four."""
    numbers = [p.origin_product_no for p in emulator.catalog.live_products()[:50]]
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        headers = {"Authorization": f"Bearer {fetch_token(client)}"}
    failures: list[int] = []
    per_thread = 100

    def hammer() -> None:
        with httpx.Client(base_url=emulator.base_url, timeout=5, headers=headers) as client:
            for index in range(per_thread):
                status = client.get(detail_path(numbers[index % len(numbers)])).status_code
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = 4 * per_thread / (time.perf_counter() - started)
    assert failures == []
    assert rate > 150, f"only {rate:.0f} requests/s"


def test_latency_is_added_to_api_responses_only(emulator, authed):
    number = emulator.catalog.live_products()[0].origin_product_no
    image_url = f"{emulator.root_url}/images/{number}/1.jpg"
    httpx.get(image_url)  # generated once, then cached: what is timed below is the latency alone
    emulator.set_latency(600.0)
    started = time.monotonic()
    assert authed.get(detail_path(number)).status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    httpx.get(image_url)
    httpx.get(f"{emulator.root_url}/_emulator/health")
    assert time.monotonic() - started < 0.6


def test_latency_samples_are_never_negative_and_centre_on_the_mean():
    model = LatencyModel(mean_ms=30.0, jitter_ms=20.0, seed=1)
    samples = [model.sample_seconds() for _ in range(5_000)]
    assert min(samples) >= 0
    assert 0.027 < sum(samples) / len(samples) < 0.033
    model.set(0.0, 10.0)
    assert all(0 <= model.sample_seconds() <= 0.010 for _ in range(100))
    model.set(25.0)
    assert model.sample_seconds() == 0.025
