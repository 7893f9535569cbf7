"""Data checks on the DuckDB store. The ones on products and the refresh queue are blocking: when
one fails with ERROR, its run stops there. Packages are built in runs of their own, so the
refresh-queue sensor also holds them back while a products check's latest result is a failure."""

from collections.abc import Iterator

import dagster as dg

from content_assets.check_steps import CheckPart, keyed, one_check
from content_assets.stores import checked_store
from resources.store import DELETED, CatalogDatabase, quarantine, refresh_queue

# The API documents salePrice <= 999,999,990; a sale price of zero or less is no price at all.
MAX_SALE_PRICE = 999_999_990
# refresh_queue.claim() hands an in-progress item to another run after this long (its default):
# an item older than that is one whose run died.
QUEUE_LEASE_SECONDS = refresh_queue.LEASE_SECONDS  # one home: resources/store/refresh_queue.py
EXAMPLES = 10
QUARANTINE_LISTED = 50  # quarantined products the check lists; the table has them all


def examples(rows: list[tuple]) -> dg.MetadataValue:
    """The first rows of a check's findings, as its metadata shows them."""
    return dg.MetadataValue.json([list(map(str, row)) for row in rows[:EXAMPLES]])


PRODUCTS_UNIQUE = dg.AssetCheckSpec("products_origin_product_no_unique", asset="products", blocking=True,
                                    description="origin_product_no is unique in products")
PRODUCTS_VALID = dg.AssetCheckSpec(
    "products_name_and_price_valid", asset="products", blocking=True,
    description=f"Every live product has a name and a sale price in 1..{MAX_SALE_PRICE:,}",
)


def _products_data(context: dg.AssetCheckExecutionContext, store: CatalogDatabase | None,
                   selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
    """The blocking data checks on products, on one connection."""
    assert store is not None
    results: list[dg.AssetCheckResult] = []
    store = checked_store(context, store)
    with store.connect() as catalog:
        if PRODUCTS_UNIQUE.key in selected:
            duplicates = catalog.con.execute(
                "SELECT origin_product_no, count(*) FROM products GROUP BY origin_product_no HAVING count(*) > 1 ORDER BY 1"
            ).fetchall()
            results.append(keyed(PRODUCTS_UNIQUE.key, dg.AssetCheckResult(
                passed=not duplicates,
                metadata={"store": store.store_key, "duplicated_numbers": len(duplicates),
                          "examples": examples(duplicates)},
            )))
        if PRODUCTS_VALID.key in selected:
            invalid = catalog.con.execute(
                f"""
                SELECT origin_product_no,
                       CASE WHEN name IS NULL OR trim(name) = '' THEN 'no name'
                            WHEN sale_price IS NULL THEN 'no price'
                            ELSE 'price out of bounds' END AS problem
                FROM products
                WHERE status_type <> '{DELETED}'
                  AND (name IS NULL OR trim(name) = '' OR sale_price IS NULL OR sale_price NOT BETWEEN 1 AND ?)
                ORDER BY origin_product_no
                """,  # noqa: S608
                [MAX_SALE_PRICE],
            ).fetchall()
            results.append(keyed(PRODUCTS_VALID.key, dg.AssetCheckResult(
                passed=not invalid,
                metadata={"store": store.store_key, "invalid_products": len(invalid),
                          "examples": examples(invalid)},
            )))
    # Reported once the connection is closed; a failed one (ERROR) fails the step after every
    # result of the step is reported, and that stops what depends on products.
    yield from results


PRODUCTS_DATA = CheckPart((PRODUCTS_UNIQUE, PRODUCTS_VALID), _products_data, needs_store=True)


def _quarantine_table(rows: list[tuple]) -> str:
    lines = ["| originProductNo | api | status | code | failures | retry after | reason |", "|---|---|---|---|---|---|---|"]
    for number, api, status, code, reason, failures, _, retry_after in rows:
        text = " ".join(str(reason).split()).replace("|", "\\|")[:200]
        lines.append(f"| {number} | {api} | {status or ''} | {code or ''} | {failures} | "
                     f"{retry_after:%Y-%m-%d %H:%M %Z} | {text} |")
    return "\n".join(lines)


PRODUCTS_QUARANTINE = dg.AssetCheckSpec(
    "products_quarantine", asset="products",
    description="No product is quarantined (a WARN lists them with reasons; it never stops a run)")


def _products_quarantine(context: dg.AssetCheckExecutionContext, store: CatalogDatabase) -> dg.AssetCheckResult:
    store = checked_store(context, store)
    # Quarantined products are held back from syncs, not lost: someone should look at them, but
    # packages of every other product go on.
    with store.connect() as catalog:
        total, rows = quarantine.summary(catalog.con, QUARANTINE_LISTED)
    if not total:
        return dg.AssetCheckResult(passed=True, metadata={"quarantined_products": 0},
                                   description="no product is quarantined")
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined_products": total,
            "quarantined": dg.MetadataValue.md(_quarantine_table(rows)),
            "examples": dg.MetadataValue.json([
                {"origin_product_no": number, "api": api, "status": status, "code": code, "reason": reason,
                 "failures": failures, "retry_after": retry_after.isoformat()}
                for number, api, status, code, reason, failures, _, retry_after in rows
            ]),
        },
        description=(f"{total} product(s) quarantined: their details cannot be synced until they change or "
                     f"their backoff passes; see the sync_quarantine table"),
    )


QUARANTINE_PART = one_check(PRODUCTS_QUARANTINE, _products_quarantine)


QUEUE_NOT_STUCK = dg.AssetCheckSpec(
    "refresh_queue_no_stuck_items", asset="refresh_queue", blocking=True,
    description=f"No queue item stuck in_progress for longer than the {QUEUE_LEASE_SECONDS:.0f} s lease")


def _queue_not_stuck(context: dg.AssetCheckExecutionContext, store: CatalogDatabase) -> dg.AssetCheckResult:
    with checked_store(context, store).connect() as catalog:
        stuck = catalog.con.execute(
            f"""
            SELECT origin_product_no, updated_at FROM refresh_queue
            WHERE status = '{refresh_queue.IN_PROGRESS}' AND updated_at < now() - to_seconds(?)
            ORDER BY updated_at
            """,  # noqa: S608
            [QUEUE_LEASE_SECONDS],
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not stuck,
        metadata={"stuck_items": len(stuck), "lease_seconds": QUEUE_LEASE_SECONDS, "examples": examples(stuck)},
        description=(f"{len(stuck)} item(s) claimed by a run that died; the next package run takes them again"
                     if stuck else "no stuck items"),
    )


QUEUE_NOT_STUCK_PART = one_check(QUEUE_NOT_STUCK, _queue_not_stuck)


# While one of these last failed, no package is built from the products it judged. (A stuck queue
# item is not one of them: the package run is what takes it again once its lease runs out.)
PACKAGE_GATE_KEYS = tuple(spec.key for spec in PRODUCTS_DATA.specs)

DATA_CHECK_PARTS = [QUARANTINE_PART, PRODUCTS_DATA, QUEUE_NOT_STUCK_PART]
