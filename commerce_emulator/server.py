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
from .images import ImageShelf
from .penalty import QueryStringPenalty
from .rate_limit import RateLimiter
from .router import API_PREFIX, Router
from .seller_quota import SellerQuota
from .stats import EmulatorStats
from .stores import StoreDirectory
from .tokens import TokenStore

_POLL_INTERVAL_SECONDS = 0.01  # how quickly serve_forever notices stop(); idle cost is negligible


class EmulatorServer:
    """Serves the API in a background thread; use as a context manager or call start()/stop()."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.catalog = Catalog(self.config.products, self.config.seed, hostile=self.config.hostile)
        self._stores = StoreDirectory(self.config, self.catalog)
        self._tokens = TokenStore(self.config.token_ttl_seconds)
        self._limiter = RateLimiter(self.config.rate, refill=self.config.refill)
        quota_rate = self.config.seller_quota_rate
        self._seller_quota = SellerQuota(quota_rate) if quota_rate is not None else None
        self._penalty = QueryStringPenalty()
        self._faults = FaultInjector()
        self._latency = LatencyModel(self.config.latency_ms, self.config.latency_jitter_ms, seed=self.config.seed)
        self._stats = EmulatorStats({app.client_id: app.accounts for app in self._stores.apps})
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
        api = CommerceApi(self._stores, self._tokens, self._stats, self._root_url)
        gateway = Gateway(
            api,
            self._stores,
            self._tokens,
            self._limiter,
            self._seller_quota,
            self._penalty,
            self._faults,
            self._latency,
            self._stats,
            self._stop_event,
            self.config,
        )
        httpd.router = Router(gateway, ControlApi(self), self._stores, self._stats, ImageShelf(self.config.image_folder))
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

    # Stores: the default app's catalog is `catalog`; others are named by client_id (and account_id)

    def catalog_of(self, client_id: str | None = None, account_id: str | None = None) -> Catalog:
        """The catalog of a SELF app (client_id) or of a SELLER-type app's seller (client_id, account_id)."""
        return self._stores.resolve(client_id, account_id).catalog

    # Controls (each also reachable under /_emulator/); without a target they act on the default app

    def modify(
        self,
        fraction: float | None = None,
        seed: int = 0,
        origin_product_nos: Iterable[int] | None = None,
        *,
        client_id: str | None = None,
        account_id: str | None = None,
    ) -> list[int]:
        """Change price/stock and bump modifiedDate of a fraction of live products, or of the given ones."""
        catalog = self.catalog_of(client_id, account_id)
        return catalog.modify(fraction=fraction, seed=seed, origin_product_nos=origin_product_nos)

    def delete(
        self, origin_product_nos: Iterable[int], *, client_id: str | None = None, account_id: str | None = None
    ) -> list[int]:
        return self.catalog_of(client_id, account_id).delete(origin_product_nos)

    def set_rate(self, rate: float, api: str | None = None, *, client_id: str | None = None) -> None:
        """The replenish rate of every app's buckets, or of one app's (client_id)."""
        client_key = self._stores.check_app(client_id) if client_id is not None else None
        self._limiter.set_rate(rate, api, client_key)

    def rates(self, client_id: str | None = None) -> dict[str, float]:
        return self._limiter.rates(self._stores.check_app(client_id) if client_id is not None else None)

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

    def break_products(
        self,
        origin_product_nos: Iterable[int],
        kind: str | None = "404",
        *,
        client_id: str | None = None,
        account_id: str | None = None,
    ) -> None:
        """Make these products' details fail on every request ("404" or "invalid"); None mends them."""
        store = self._stores.resolve(client_id, account_id)
        self._faults.break_products(list(origin_product_nos), kind, store.key)

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
