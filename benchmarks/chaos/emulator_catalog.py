"""What the emulator's catalog holds right now, read through its own search API with every status,
independently of the project's client: the truth the synced table is compared with."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, client_secret_sign

EVERY_STATUS = ["WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION",
                "DELETE"]
PAGE_SIZE = 500


@dataclass(frozen=True)
class CatalogEntry:
    origin_product_no: int
    status_type: str
    modified_ms: int  # the listing's modifiedDate, epoch milliseconds

    @property
    def live(self) -> bool:
        return self.status_type != "DELETE"


def epoch_ms(iso: str) -> int:
    """`2025-05-12T13:45:12.123+09:00` (any ISO offset, any fraction) in epoch milliseconds."""
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def read_catalog(base_url: str) -> dict[int, CatalogEntry]:
    """Every product the emulator lists, deleted ones included, by originProductNo."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        headers = {"Authorization": f"Bearer {_token(client)}"}
        entries: dict[int, CatalogEntry] = {}
        page, last = 1, False
        while not last:
            body = {"page": page, "size": PAGE_SIZE, "orderType": "NO", "productStatusTypes": EVERY_STATUS}
            payload = _post(client, "/v1/products/search", json=body, headers=headers)
            for content in payload["contents"]:
                listing = content["channelProducts"][0]
                number = int(content["originProductNo"])
                if number in entries:
                    raise AssertionError(f"the emulator listed originProductNo {number} twice")
                entries[number] = CatalogEntry(number, listing["statusType"], epoch_ms(listing["modifiedDate"]))
            last, page = bool(payload["last"]), page + 1
        return entries


def _token(client: httpx.Client) -> str:
    timestamp = int(time.time() * 1000) - 1000
    form = {"client_id": DEFAULT_CLIENT_ID, "timestamp": str(timestamp), "grant_type": "client_credentials",
            "client_secret_sign": client_secret_sign(DEFAULT_CLIENT_ID, timestamp, DEFAULT_CLIENT_SECRET),
            "type": "SELF"}
    return str(_post(client, "/v1/oauth2/token", data=form)["access_token"])


def _post(client: httpx.Client, path: str, **kwargs: object) -> dict:
    """One call, waiting out the gateway's 429s (this reader shares the buckets with the runs)."""
    for _ in range(50):
        response = client.post(path, **kwargs)  # type: ignore[arg-type]
        if response.status_code != 429:
            response.raise_for_status()
            return response.json()
        time.sleep(0.2)
    raise RuntimeError(f"POST {path}: still 429 after 50 tries")
