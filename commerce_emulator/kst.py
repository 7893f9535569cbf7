"""KST (UTC+9) clock helpers: the Commerce API writes every timestamp as ISO-8601 with +09:00."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")

_KST_OFFSET_MS = 9 * 3600 * 1000
_MS_PER_DAY = 86_400_000
_UNIX_EPOCH_DATE = date(1970, 1, 1)
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def now_ms() -> int:
    """Wall-clock Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


def iso_kst_from_ms(epoch_ms: int) -> str:
    """`2025-05-12T13:45:12.123+09:00` for a Unix time in milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, KST).isoformat(timespec="milliseconds")


def now_iso_kst() -> str:
    return iso_kst_from_ms(now_ms())


def kst_day_number(epoch_ms: int) -> int:
    """Days since 1970-01-01 of the KST calendar day containing `epoch_ms`.

    Integer day numbers keep the date filters of a 100,000-product search cheap.
    """
    return (epoch_ms + _KST_OFFSET_MS) // _MS_PER_DAY


def parse_day_number(text: str) -> int:
    """Day number of a strict `yyyy-MM-dd` string; ValueError when it is anything else."""
    if not isinstance(text, str) or not _DATE_PATTERN.fullmatch(text):
        raise ValueError(f"not a yyyy-MM-dd date: {text!r}")
    return (date.fromisoformat(text) - _UNIX_EPOCH_DATE).days


def kst_midnight_ms(year: int, month: int, day: int) -> int:
    """Unix milliseconds of 00:00 KST on the given day."""
    return int(datetime(year, month, day, tzinfo=KST).timestamp() * 1000)
