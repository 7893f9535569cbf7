"""Counters of what the emulator answered, for tests and benchmarks to compare against clients' own counts.

Totals cover every request; the per-app breakdown covers requests the gateway could tie to an app
(a known client_id in the token form, or a token it issued), and to a seller account where there is one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .config import API_NAMES
from .stores import StoreKey


@dataclass
class _CallerCounts:
    """What one app, or one seller account of it, was answered."""

    requests: Counter[str] = field(default_factory=Counter)
    responses_429: Counter[str] = field(default_factory=Counter)
    quota_limited: int = 0
    token_issued: int = 0

    def record(self, api: str, outcome: str) -> None:
        self.requests[api] += 1
        if outcome == "429":
            self.responses_429[api] += 1

    def snapshot(self) -> dict:
        return {
            "requests": {api: self.requests[api] for api in API_NAMES},
            "responses_429": {api: self.responses_429[api] for api in API_NAMES},
            "quota_limited": self.quota_limited,
            "token_issued": self.token_issued,
        }


class EmulatorStats:
    def __init__(self, apps: Mapping[str, Sequence[str]] | None = None) -> None:
        """`apps` maps each known client_id to its seller accounts (none for a SELF app)."""
        self._lock = threading.Lock()
        self._app_accounts = {client_id: tuple(accounts) for client_id, accounts in (apps or {}).items()}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._responses = {api: Counter() for api in API_NAMES}
            self._faults: Counter[str] = Counter()
            self._tokens_issued = 0
            self._images_served = 0
            self._videos_served = 0
            self._rate_limited = 0
            self._quota_limited = 0
            self._by_app = {client_id: _CallerCounts() for client_id in self._app_accounts}
            self._by_account = {
                StoreKey(client_id, account): _CallerCounts()
                for client_id, accounts in self._app_accounts.items()
                for account in accounts
            }

    def record_response(self, api: str, outcome: str, caller: StoreKey | None = None) -> None:
        """`outcome` is the HTTP status as text, or "reset" for a dropped connection."""
        with self._lock:
            self._responses[api][outcome] += 1
            for counts in self._counts_of(caller):
                counts.record(api, outcome)

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def record_token_issued(self, caller: StoreKey | None = None) -> None:
        with self._lock:
            self._tokens_issued += 1
            for counts in self._counts_of(caller):
                counts.token_issued += 1

    def record_image_served(self) -> None:
        with self._lock:
            self._images_served += 1

    def record_video_served(self) -> None:
        with self._lock:
            self._videos_served += 1

    def record_rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def record_quota_limited(self, caller: StoreKey | None = None) -> None:
        with self._lock:
            self._quota_limited += 1
            for counts in self._counts_of(caller):
                counts.quota_limited += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": {api: dict(counts) for api, counts in self._responses.items()},
                "token_issued": self._tokens_issued,
                "images_served": self._images_served,
                "videos_served": self._videos_served,
                "rate_limited": self._rate_limited,
                "quota_limited": self._quota_limited,
                "faults": dict(self._faults),
                "apps": {client_id: self._app_snapshot(client_id) for client_id in self._by_app},
            }

    def _app_snapshot(self, client_id: str) -> dict:
        accounts = {
            account: self._by_account[StoreKey(client_id, account)].snapshot()
            for account in self._app_accounts[client_id]
        }
        return {**self._by_app[client_id].snapshot(), "accounts": accounts}

    def _counts_of(self, caller: StoreKey | None) -> list[_CallerCounts]:
        """The app's counters and, for a seller account of it, the account's too (lock held)."""
        if caller is None or caller.client_id not in self._by_app:
            return []
        account = self._by_account.get(caller)
        return [self._by_app[caller.client_id]] if account is None else [self._by_app[caller.client_id], account]
