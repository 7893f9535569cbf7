"""Emulator settings in one place, with defaults that work on a laptop."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .signature import InvalidClientSecret, canonical_bcrypt_salt

# How a bucket refills (rate_limit.TokenBucket): continuously, or by whole seconds as Spring Cloud
# Gateway's limiter does, whose headers the gateway's are: its script adds `rate` tokens for each
# second boundary since the bucket's last request, so a second's tokens arrive at its start.
REFILLS = ("continuous", "whole-seconds")

DEFAULT_CLIENT_ID = "content-ops-emulator"
# A canonical bcrypt salt string, as Naver issues client secrets (the last
# salt character "u" carries no stray low bits, so every bcrypt binding agrees).
DEFAULT_CLIENT_SECRET = "$2a$10$contentopsEmulatorSecu"

# The APIs that have their own rate-limit bucket, fault plan and statistics.
API_NAMES: tuple[str, ...] = ("token", "search", "detail")

# bcrypt reads 72 bytes of f"{client_id}_{13-digit timestamp}".
_MAX_CLIENT_ID_BYTES = 72 - 14


@dataclass(frozen=True)
class EmulatedApp:
    """One more Commerce API app beside the default one, with its own buckets.

    Without `accounts` it is a SELF app with one catalog; with them it is a SELLER-type solution
    app: a token names one of its accounts, each account has its own catalog, and all of them
    share the app's buckets. `products` defaults to EmulatorConfig.products and `seed` to one
    derived from EmulatorConfig.seed and the app's position (commerce_emulator/stores.py).
    """

    client_id: str
    client_secret: str = field(repr=False)  # a canonical bcrypt salt, like DEFAULT_CLIENT_SECRET
    accounts: tuple[str, ...] = ()
    products: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", tuple(self.accounts))
        _check_client_id(self.client_id)
        try:
            canonical = canonical_bcrypt_salt(self.client_secret).decode("ascii")
        except InvalidClientSecret as error:
            raise InvalidClientSecret(f"app {self.client_id!r}: {error}") from None
        if canonical != self.client_secret:
            # The secret stays out of the message: messages end up in logs.
            raise InvalidClientSecret(f"app {self.client_id!r}: the client secret's last salt character carries "
                                      "stray low bits; give the canonical salt (see canonical_bcrypt_salt)")
        if any(not isinstance(account, str) or not account for account in self.accounts):
            raise ValueError(f"app {self.client_id!r}: account ids must be non-empty strings")
        if len(set(self.accounts)) != len(self.accounts):
            raise ValueError(f"app {self.client_id!r}: account ids must be unique, got {list(self.accounts)}")
        if self.products is not None and self.products < 0:
            raise ValueError(f"app {self.client_id!r}: products must be >= 0, got {self.products}")

    @property
    def is_seller_app(self) -> bool:
        return bool(self.accounts)


@dataclass
class EmulatorConfig:
    """How the emulated Commerce API behaves; every field has a working default."""

    products: int = 1000
    seed: int = 42
    rate: float = 2.0
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)  # kept out of reprs and logs
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    token_ttl_seconds: float = 10_800
    slow_seconds: float = 30.0
    hostile: int = 0  # hostile records added after the catalog (commerce_emulator/hostile.py)
    apps: tuple[EmulatedApp, ...] = ()  # more apps beside the default one (client_id, client_secret)
    seller_quota_rate: float | None = None  # a per-seller-account quota per API, requests/second
    image_folder: Path | None = None  # pictures kept on disk once drawn (images.ImageShelf); None: memory only
    refill: str = "continuous"  # how the buckets refill: rate_limit.REFILLS ("whole-seconds": Spring's limiter)

    def __post_init__(self) -> None:
        if self.products < 0:
            raise ValueError(f"products must be >= 0, got {self.products}")
        if self.rate <= 0:
            raise ValueError(f"rate must be > 0 requests/second, got {self.rate}")
        _check_client_id(self.client_id)
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        if self.token_ttl_seconds <= 0:
            raise ValueError(f"token_ttl_seconds must be > 0, got {self.token_ttl_seconds}")
        if self.hostile < 0:
            raise ValueError(f"hostile must be >= 0, got {self.hostile}")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must be >= 0, got {self.slow_seconds}")
        if self.refill not in REFILLS:
            raise ValueError(f"refill must be one of {', '.join(REFILLS)}, got {self.refill!r}")
        canonical_bcrypt_salt(self.client_secret)  # fail at configuration time, not on the first token call
        self.apps = tuple(self.apps)
        client_ids = [self.client_id, *(app.client_id for app in self.apps)]
        if len(set(client_ids)) != len(client_ids):
            raise ValueError(f"client ids must be unique and differ from the default app's, got {client_ids}")
        if self.seller_quota_rate is not None and not self.seller_quota_rate > 0:
            raise ValueError(f"seller_quota_rate must be > 0 requests/second, got {self.seller_quota_rate}")


def _check_client_id(client_id: str) -> None:
    if not isinstance(client_id, str) or not client_id or len(client_id.encode("utf-8")) > _MAX_CLIENT_ID_BYTES:
        raise ValueError(f"client_id must be 1..{_MAX_CLIENT_ID_BYTES} bytes")
