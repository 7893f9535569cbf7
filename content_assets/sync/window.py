"""Which products a sync lists: the KST days of `modifiedDate` it searches.

- The first sync of a store, or one asked for with `full_refresh`, lists the whole catalog.
- Every other sync is incremental: from the store's cursor (the day its last complete sync started
  on, resources/store/sync_cursor.py) through today.
- `modified_from`/`modified_to` re-sync a range of days, as a day partition did: the cursor stays.
A sync that completes (not judged failed) moves the cursor to the day it started on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

CATALOG_TIMEZONE = "Asia/Seoul"  # the API's date filters mean KST calendar days
FULL, INCREMENTAL, DAYS = "full", "incremental", "days"


def kst_today(now: datetime | None = None) -> date:
    return (now or datetime.now(ZoneInfo(CATALOG_TIMEZONE))).astimezone(ZoneInfo(CATALOG_TIMEZONE)).date()


@dataclass(frozen=True)
class SyncWindow:
    kind: str
    modified_from: date | None  # None: the whole catalog, up to modified_to
    modified_to: date

    @property
    def moves_cursor(self) -> bool:
        return self.kind != DAYS

    def describe(self) -> str:
        if self.kind == FULL:
            return f"the whole catalog (products modified on or before {self.modified_to}, KST)"
        return f"products modified from {self.modified_from} to {self.modified_to} (KST, {self.kind})"


def sync_window(*, cursor: date | None, today: date, full_refresh: bool = False,
                modified_from: str | None = None, modified_to: str | None = None) -> SyncWindow:
    """The window a run lists; raises ValueError, in one line, for days that make no sense."""
    if modified_from or modified_to:
        if full_refresh:
            raise ValueError("give either full_refresh or modified_from/modified_to, not both")
        first, last = _day("modified_from", modified_from), _day("modified_to", modified_to) or today
        if first is not None and first > last:
            raise ValueError(f"modified_from {first} is after modified_to {last}")
        if last > today:
            raise ValueError(f"modified_to {last} is after today ({today}, KST)")
        return SyncWindow(DAYS, first, last)
    if full_refresh or cursor is None:
        return SyncWindow(FULL, None, today)
    return SyncWindow(INCREMENTAL, min(cursor, today), today)


def _day(name: str, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a day such as 2026-12-01, not {text!r}") from None
