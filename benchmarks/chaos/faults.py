"""Scenario "faults": a flaky gateway (10% 5xx and 1% connection resets on search and detail) and an
access token revoked mid-run, against a catalog of 1,000+ products.

After the sync and the next one (as the schedule would launch it) and a package run: every listed
product is in the store, synced or quarantined with a reason; no key is stored twice; and every
live product that is not quarantined has a queue item for its current version, done.
"""

from __future__ import annotations

import threading
from pathlib import Path

from commerce_emulator import EmulatorConfig

from . import invariants
from .project import Project, project
from .result import ScenarioResult

HTTP_500_RATE = 0.10
RESET_RATE = 0.01
RATE_PER_S = 100.0
REVOKE_AFTER_SHARE = 0.4  # the token is revoked once this share of the detail calls was answered


def run(short: bool, workdir: Path) -> ScenarioResult:
    products = 150 if short else 1200
    result = ScenarioResult("faults")
    config = EmulatorConfig(products=products, seed=11, rate=RATE_PER_S)
    with project(config, workdir) as chaos:
        for api in ("search", "detail"):
            chaos.emulator.set_faults(api, http_500=HTTP_500_RATE, reset=RESET_RATE, seed=5)
        revoker = _revoke_token_partway(chaos, int(products * REVOKE_AFTER_SHARE))
        runs = [chaos.sync()]
        revoker.finished.set()
        runs.append(chaos.sync())  # the next scheduled sync, on the same flaky gateway
        runs.append(chaos.build_packages())
        stats = chaos.emulator.stats()
        _judge(chaos, runs, result)
    faults = stats["faults"]
    responses = stats["requests"]
    result.figures.update({
        "products": products,
        "faults_injected": sum(faults.values()),
        "faults_5xx": faults.get("500", 0),
        "faults_resets": faults.get("reset", 0),
        "tokens_revoked": 1 if revoker.revoked else 0,
        "answers_401": sum(by_status.get("401", 0) for by_status in responses.values()),
        "runs": " / ".join(f"{run.job} {'ok' if run.success else 'FAILED'} {run.seconds:.1f}s" for run in runs),
    })
    result.check(revoker.revoked, "the token was never revoked: the sync ended before the revoke point")
    return result


class _Revoker(threading.Thread):
    """Revokes every access token once `after` detail calls were answered, as an operator rotating
    the app's secret (or the gateway losing its token store) would."""

    def __init__(self, chaos: Project, after: int) -> None:
        super().__init__(name="chaos-token-revoker", daemon=True)
        self.chaos, self.after, self.revoked = chaos, after, False
        self.finished = threading.Event()  # set by the scenario once the runs are over

    def run(self) -> None:
        while not self.finished.wait(0.05):
            answered = sum(self.chaos.emulator.stats()["requests"]["detail"].values())
            if answered >= self.after:
                self.chaos.emulator.expire_tokens()
                self.revoked = True
                return


def _revoke_token_partway(chaos: Project, after: int) -> _Revoker:
    revoker = _Revoker(chaos, after)
    revoker.start()
    return revoker


def _judge(chaos: Project, runs: list, result: ScenarioResult) -> None:
    for outcome in runs:
        result.check(outcome.success, f"{outcome.job} run failed: {outcome.failure}")
    catalog = {product.origin_product_no: product for product in chaos.emulator.catalog.products}
    with chaos.read() as con:
        held = invariants.quarantine(con)
        stored = invariants.stored_versions(con)
        shown = invariants.catalog_numbers(con)
        duplicates = invariants.duplicate_rows(con)
        lost, not_done = invariants.lost_queue_items(con, set(held))
    synced = [number for number, product in catalog.items()
              if stored.get(number, (None,))[0] == product.modified_date_ms]
    quarantined = [number for number in catalog if number in held and number not in synced]
    unreasoned = [number for number in quarantined if not held[number].strip()]
    unaccounted = sorted(set(catalog) - set(synced) - set(quarantined))
    missing = sorted(set(catalog) - shown)
    result.figures.update({
        "synced": len(synced), "quarantined": len(quarantined), "unaccounted": len(unaccounted),
        "missing_from_store": len(missing), "duplicates": sum(duplicates.values()),
        "lost": len(lost), "queue_not_done": len(not_done),
    })
    result.check(not unaccounted, f"{len(unaccounted)} product(s) neither synced at their current version nor "
                                  f"quarantined, e.g. {unaccounted[:5]}")
    result.check(not missing, f"{len(missing)} listed product(s) missing from the store, e.g. {missing[:5]}")
    result.check(not unreasoned, f"{len(unreasoned)} quarantined product(s) without a reason, e.g. {unreasoned[:5]}")
    result.check(not sum(duplicates.values()), f"duplicate rows by key: {duplicates}")
    result.check(not lost, f"{len(lost)} live product(s) whose current version has no queue item, e.g. {lost[:5]}")
    result.check(not not_done, f"{len(not_done)} queue item(s) not done after the package run, e.g. {not_done[:5]}")
