"""The gateway's penalty for sending token credentials in a query string: one call per hour for a day."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PENALTY_SECONDS = 24 * 3600
ALLOWED_CALL_INTERVAL_SECONDS = 3600

# Any of these in the URL query of a token request counts as leaking credentials.
TOKEN_QUERY_FIELDS = frozenset({"client_id", "client_secret_sign", "client_secret", "timestamp", "grant_type"})


@dataclass
class _Penalty:
    until: float
    last_allowed_call: float | None


class QueryStringPenalty:
    """Tracks penalised clients; while penalised, a client gets one call per rolling hour on every API."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._penalties: dict[str, _Penalty] = {}

    def penalise(self, client_id: str) -> None:
        """Start (or restart) the 24-hour penalty; the offending call counts as this hour's call."""
        with self._lock:
            now = self._clock()
            previous = self._penalties.get(client_id)
            last_call = now if previous is None else (previous.last_allowed_call or now)
            self._penalties[client_id] = _Penalty(until=now + PENALTY_SECONDS, last_allowed_call=last_call)

    def admit(self, client_id: str) -> bool:
        """True if this call may proceed; records it as the hour's call for a penalised client."""
        with self._lock:
            penalty = self._penalties.get(client_id)
            if penalty is None:
                return True
            now = self._clock()
            if now >= penalty.until:
                del self._penalties[client_id]
                return True
            if (
                penalty.last_allowed_call is not None
                and now - penalty.last_allowed_call < ALLOWED_CALL_INTERVAL_SECONDS
            ):
                return False
            penalty.last_allowed_call = now
            return True

    def is_penalised(self, client_id: str) -> bool:
        with self._lock:
            penalty = self._penalties.get(client_id)
            return penalty is not None and self._clock() < penalty.until

    def clear(self) -> None:
        with self._lock:
            self._penalties.clear()
