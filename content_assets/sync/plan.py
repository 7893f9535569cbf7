"""Which listed products a sync fetches a detail for: new or changed ones, not held back.

A product's stored detail was fetched for a modifiedDate (the store's detail ledger); a listing
with another one needs the detail again. A product the quarantine (resources/store/quarantine.py)
holds back is not fetched until its listing changes or its backoff passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from resources.commerce_api import ListedProduct
from resources.store import DELETED, DetailLedger, QuarantineLedger
from resources.store.quarantine import EMPTY_LEDGER

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CATALOG_ZONE = ZoneInfo("Asia/Seoul")  # the API's date filters mean KST days


def products_needing_detail(
    products: Sequence[ListedProduct], ledger: DetailLedger, *, refetch_all: bool = False,
    quarantine: QuarantineLedger = EMPTY_LEDGER,
) -> list[int]:
    """Live products whose detail is missing or older than the listing's modifiedDate.

    `ledger` is CatalogStore.detail_ledger(): the modifiedDate (epoch microseconds) each stored
    detail was fetched for. A DELETE listing needs none: the product is gone. Products the
    quarantine holds back are left out (a full refresh, `refetch_all`, tries them again).
    """
    return plan_details(products, ledger, refetch_all, quarantine)[0]


def plan_details(
    products: Sequence[ListedProduct], ledger: DetailLedger, refetch_all: bool, quarantine: QuarantineLedger,
) -> tuple[list[int], int]:
    """products_needing_detail(), and how many products the quarantine held back."""
    wanted, held = [], 0
    stored = ledger.versions([product.origin_product_no for product in products])
    for product, stored_us in zip(products, stored, strict=True):
        if product.status_type == DELETED:
            continue
        listed_us = _epoch_microseconds(product.modified_date)
        if not (refetch_all or listed_us is None or stored_us != listed_us):
            continue
        if not refetch_all and quarantine.holds(product.origin_product_no, listed_us):
            held += 1
        else:
            wanted.append(product.origin_product_no)
    return wanted, held


def _epoch_microseconds(timestamp: str) -> int | None:
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return None  # the detail is fetched rather than the date trusted
    if moment.tzinfo is None:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def modified_after(product: ListedProduct, day: date) -> bool:
    """The product's modifiedDate falls after `day` (a KST day)."""
    try:
        return datetime.fromisoformat(product.modified_date).astimezone(CATALOG_ZONE).date() > day
    except (TypeError, ValueError):
        return False  # kept: the detail fetch and the store judge a bad date
