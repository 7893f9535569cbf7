"""Emulator settings in one place, with defaults that work on a laptop."""

from __future__ import annotations

from dataclasses import dataclass, field

from .signature import canonical_bcrypt_salt

DEFAULT_CLIENT_ID = "content-ops-emulator"
# A canonical bcrypt salt string, as Naver issues client secrets (the last
# salt character "u" carries no stray low bits, so every bcrypt binding agrees).
DEFAULT_CLIENT_SECRET = "$2a$10$contentopsEmulatorSecu"

# The APIs that have their own rate-limit bucket, fault plan and statistics.
API_NAMES: tuple[str, ...] = ("token", "search", "detail")

# bcrypt reads 72 bytes of f"{client_id}_{13-digit timestamp}".
_MAX_CLIENT_ID_BYTES = 72 - 14


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

    def __post_init__(self) -> None:
        if self.products < 0:
            raise ValueError(f"products must be >= 0, got {self.products}")
        if self.rate <= 0:
            raise ValueError(f"rate must be > 0 requests/second, got {self.rate}")
        if not self.client_id or len(self.client_id.encode("utf-8")) > _MAX_CLIENT_ID_BYTES:
            raise ValueError(f"client_id must be 1..{_MAX_CLIENT_ID_BYTES} bytes")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        if self.token_ttl_seconds <= 0:
            raise ValueError(f"token_ttl_seconds must be > 0, got {self.token_ttl_seconds}")
        if self.hostile < 0:
            raise ValueError(f"hostile must be >= 0, got {self.hostile}")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must be >= 0, got {self.slow_seconds}")
        canonical_bcrypt_salt(self.client_secret)  # fail at configuration time, not on the first token call
