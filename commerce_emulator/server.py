"""EmulatorServer: the emulated Commerce API on loopback, with thread-safe controls for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .catalog import Catalog
from .commerce_api import CommerceApi
from .config import EmulatorConfig
from .control import ControlApi
from .faults import FaultInjector, FaultProbabilities, LatencyModel
from .gateway import Gateway
from .http_handler import EmulatorHTTPServer
from .penalty import QueryStringPenalty
from .rate_limit import RateLimiter
from .router import API_PREFIX, Router
from .stats import EmulatorStats
from .tokens import TokenStore

_POLL_INTERVAL_SECONDS = 0.01  # how quickly serve_forever notices stop(); idle cost is negligible


class EmulatorServer:
    """Serves the API in a background thread; use as a context manager or call start()/stop()."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.catalog = Catalog(self.config.products, self.config.seed, hostile=self.config.hostile)
        self._tokens = TokenStore(self.config.token_ttl_seconds)
        self._limiter = RateLimiter(self.config.rate)
        self._penalty = QueryStringPenalty()
        self._faults = FaultInjector()
        self._latency = LatencyModel(self.config.latency_ms, self.config.latency_jitter_ms, seed=self.config.seed)
        self._stats = EmulatorStats()
        self._stop_event = threading.Event()
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._root_url: str | None = None

    # Lifecycle

    def start(self) -> EmulatorServer:
        """Bind, start serving in a daemon thread, and return once the socket is listening."""
        if self._httpd is not None:
            raise RuntimeError("the emulator is already running")
        self._stop_event.clear()
        httpd = EmulatorHTTPServer((self.config.host, self.config.port))
        host, port = httpd.server_address[:2]
        self._root_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        api = CommerceApi(
            self.catalog, self._tokens, self._stats, self.config.client_id, self.config.client_secret, self._root_url
        )
        gateway = Gateway(
            api,
            self._tokens,
            self._limiter,
            self._penalty,
            self._faults,
            self._latency,
            self._stats,
            self._stop_event,
            self.config,
        )
        httpd.router = Router(gateway, ControlApi(self), self.catalog, self._stats)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_SECONDS},
            name=f"commerce-emulator:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly: wakes requests sleeping in slow faults or latency, closes idle connections."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stop_event.set()
        httpd.shutdown()
        httpd.close_open_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._root_url is None:
            raise RuntimeError("the emulator has not been started")
        return self._root_url

    @property
    def base_url(self) -> str:
        """Where the API lives, like https://api.commerce.naver.com/external."""
        return self.root_url + API_PREFIX

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    # Controls (each also reachable under /_emulator/)

    def modify(
        self,
        fraction: float | None = None,
        seed: int = 0,
        origin_product_nos: Iterable[int] | None = None,
    ) -> list[int]:
        """Change price/stock and bump modifiedDate of a fraction of live products, or of the given ones."""
        return self.catalog.modify(fraction=fraction, seed=seed, origin_product_nos=origin_product_nos)

    def delete(self, origin_product_nos: Iterable[int]) -> list[int]:
        return self.catalog.delete(origin_product_nos)

    def set_rate(self, rate: float, api: str | None = None) -> None:
        self._limiter.set_rate(rate, api)

    def rates(self) -> dict[str, float]:
        return self._limiter.rates()

    def set_latency(self, mean_ms: float, jitter_ms: float = 0.0) -> None:
        self._latency.set(mean_ms, jitter_ms)

    def set_faults(
        self,
        api: str,
        *,
        http_500: float = 0.0,
        reset: float = 0.0,
        slow: float = 0.0,
        malformed: float = 0.0,
        seed: int = 0,
    ) -> None:
        probabilities = FaultProbabilities(http_500=http_500, reset=reset, slow=slow, malformed=malformed)
        self._faults.set_probabilities(api, probabilities, seed)

    def inject(self, api: str, kind: str, count: int = 1) -> None:
        self._faults.inject(api, kind, count)

    def break_products(self, origin_product_nos: Iterable[int], kind: str | None = "404") -> None:
        """Make these products' details fail on every request ("404" or "invalid"); None mends them."""
        self._faults.break_products(list(origin_product_nos), kind)

    def clear_faults(self) -> None:
        self._faults.clear()

    def expire_tokens(self) -> None:
        self._tokens.expire_all()

    def issued_tokens(self) -> list[str]:
        return self._tokens.issued_values()

    def clear_penalty(self) -> None:
        self._penalty.clear()

    def stats(self) -> dict:
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()
