"""A real peer: the pipeline a dlt user would write for this API, against the same emulator settings.

What dlt's REST helpers offer a new user, used as their docs show, nothing tuned:
- `RESTClient` with an `OAuth2ClientCredentials` subclass that signs the token request as Naver
  asks (bcrypt over `{client_id}_{timestamp}`, base64'd: the contract's token section);
- a `PageNumberPaginator` that puts the page number in the search's JSON body;
- a `parallelized` transformer fetching each listed product's detail on dlt's extract threads;
- `merge` on `originProductNo` into a DuckDB file;
- dlt's default retries (5 attempts, exponential backoff, Retry-After honoured), which know no
  pacing: a 429 is its only signal of the limit.

dlt is an optional extra (`pip install -e '.[peer]'`), so `make test` does not need it: without
it the scenario reports why it did not run. `efficiency` is the API floor over the wall time, as
for our client (benchmarks/metrics.py); a run that failed (429 after its last attempt) reports
what the server counted and `pipeline_error`, not an efficiency. A run that "succeeded" may still
have stored 429 bodies as details (`rows.details_without_product`): dlt's `client.get` returns the
last answer once its retries are spent, and nothing in the idiomatic transformer checks it.
"""

from __future__ import annotations

import base64
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.metrics import sync_figures
from benchmarks.scenarios.sync import _emulator
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

STATUS_TYPES = ["WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION",
                "DELETE"]


def run(params: dict[str, Any]) -> dict[str, Any]:
    try:
        import dlt  # noqa: F401
    except ImportError:
        return {"not_run": "dlt is not installed (pip install -e '.[peer]')"}
    rate = float(params["rate"])
    with _emulator(params) as emulator, tempfile.TemporaryDirectory(prefix="bench-dlt-") as scratch:
        started = time.perf_counter()
        error, rows = None, {}
        try:
            rows = _run_pipeline(emulator.base_url, Path(scratch), int(params.get("page_size", 500)))
        except Exception as exc:  # the figure is the failure itself: dlt gave up on a 429
            error = f"{type(exc).__name__}: {_last_cause(exc)}"
        wall = time.perf_counter() - started
        requests = emulator.stats()["requests"]
    figures = sync_figures(products=int(params["products"]), rate_per_s=rate, wall_seconds=wall,
                           requests=requests, detail_call_seconds=[])
    figures.update(client="dlt", kind="fresh", rows=rows, pipeline_error=error,
                   latency_ms=float(params.get("latency_ms", 0.0)))
    if error is not None:
        figures["efficiency"] = None
    return figures


def _run_pipeline(base_url: str, scratch: Path, page_size: int) -> dict[str, int]:
    import bcrypt
    import dlt
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
    from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

    class NaverClientCredentials(OAuth2ClientCredentials):
        def build_access_token_request(self) -> dict[str, Any]:
            timestamp = str(int(time.time() * 1000) - 2000)
            signed = bcrypt.hashpw(f"{self.client_id}_{timestamp}".encode(), self.client_secret.encode())
            return {"data": {"client_id": self.client_id, "timestamp": timestamp, "type": "SELF",
                             "grant_type": "client_credentials",
                             "client_secret_sign": base64.b64encode(signed).decode()}}

    client = RESTClient(base_url=base_url, auth=NaverClientCredentials(
        access_token_url=f"{base_url}/v1/oauth2/token", client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET))

    @dlt.resource(primary_key="originProductNo", write_disposition="merge")
    def products():
        for page in client.paginate(
            "/v1/products/search", method="POST",
            json={"page": 1, "size": page_size, "orderType": "NO", "productStatusTypes": STATUS_TYPES},
            paginator=PageNumberPaginator(base_page=1, page_body_path="page", total_path="totalPages"),
            data_selector="contents",
        ):
            yield from page

    @dlt.transformer(primary_key="originProductNo", write_disposition="merge", parallelized=True)
    def product_details(product: dict[str, Any]):
        if any(channel.get("statusType") == "DELETE" for channel in product.get("channelProducts", [])):
            return
        number = product["originProductNo"]
        detail = client.get(f"/v2/products/origin-products/{number}").json()
        yield {"originProductNo": number, **detail}

    pipeline = dlt.pipeline(pipeline_name="naver_catalog", pipelines_dir=str(scratch / "pipelines"),
                            destination=dlt.destinations.duckdb(str(scratch / "catalog.duckdb")),
                            dataset_name="naver")
    pipeline.run([products, products | product_details])
    with pipeline.sql_client() as sql:
        rows = {table: int(sql.execute_sql(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608
                for table in ("products", "product_details")}
        # `client.get` hands back the last answer when its retries run out, a 429's body too, and
        # the transformer stores it as a detail: such rows have no originProduct.
        rows["details_without_product"] = int(sql.execute_sql(
            "SELECT count(*) FROM product_details WHERE origin_product__name IS NULL")[0][0])
        return rows


def _last_cause(exc: BaseException) -> str:
    """The innermost cause's first line (dlt wraps a step's failure in its own)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
