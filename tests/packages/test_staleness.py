"""The stale-package rule's two forms (content_assets/packages/staleness.py) judge a crafted store
alike: the SQL the template-change sensor counts with and the Python the package run decides with."""

from __future__ import annotations

from resources.store import DELETED, package_records
from content_assets.packages.staleness import PackageVersion, count_outdated, outdated_keys, stale_packages
from tests.support.crafted_store import CraftedStore

VERSION = PackageVersion({"default": "t1", "review": "r1"}, "s1")


def crafted(store: CraftedStore) -> CraftedStore:
    store.add_products(1, 8)
    store.add_products(9, 1, status=DELETED)
    for number, variant, template, settings in [
        (1, "default", "t1", "s1"),  # current
        (2, "default", "t0", "s1"),  # another template version
        (3, "default", "t1", "s0"),  # other settings
        (4, "default", "t1", "s1"),  # versions unknown (NULL), below
        (5, "default", "t1", "s1"), (5, "review", "r1", "s1"),  # both current
        (6, "default", "t1", "s1"), (6, "intro", "x", "s0"),  # intro is not wanted
        (7, "default", "t1", "s1"),  # missing pictures whose retry is due, below
        (8, "review", "r0", "s1"),  # an old review, and no default package
        (9, "default", "t0", "s1"),  # outdated, but of a deleted product
    ]:
        store.add_packages(number, 1, variant=variant, template_version=template, settings_hash=settings)
    store.execute("UPDATE packages SET template_version = NULL, settings_hash = NULL WHERE origin_product_no = 4")
    store.execute("UPDATE packages SET missing_images = 1, missing_retry_at = now() - INTERVAL '1 hour' "
                  "WHERE origin_product_no = 7")
    return store


def test_the_sql_and_the_python_form_judge_the_same_packages_outdated(store: CraftedStore):
    with crafted(store).resource.connect() as catalog:
        in_sql = outdated_keys(catalog.con, VERSION)
        count = count_outdated(catalog.con, VERSION)
        in_python = {(p.origin_product_no, p.variant) for p in package_records.packages_of_live_products(catalog.con)
                     if p.variant in VERSION.templates and VERSION.outdated(p)}

    assert in_sql == in_python == {(2, "default"), (3, "default"), (4, "default"), (8, "review")}
    assert count == len(in_sql)


def test_the_run_rebuilds_what_the_sensor_counts_and_missing_variants_and_due_retries(store: CraftedStore):
    with crafted(store).resource.connect() as catalog:
        outdated = outdated_keys(catalog.con, VERSION)
        stale = stale_packages(catalog.con, VERSION, lambda number: list(VERSION.templates), claimed=set())
        claimed = stale_packages(catalog.con, VERSION, lambda number: ["default"], claimed={2, 3})

    assert outdated <= stale
    assert stale - outdated == {(1, "review"), (2, "review"), (3, "review"), (4, "review"), (6, "review"),
                                (7, "default"), (7, "review"), (8, "default")}
    assert claimed == {(4, "default"), (7, "default"), (8, "default")}  # claimed products are built anyway
