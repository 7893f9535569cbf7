"""Request helpers shared by the emulator tests."""

from __future__ import annotations

import time

import httpx

from commerce_emulator import DEFAULT_CLIENT_ID, client_secret_sign

# Cost 4 instead of the default secret's 10: the same protocol, 60x faster per token request.
TEST_CLIENT_SECRET = "$2a$04$contentopsEmulatorTesu"
TOKEN_PATH = "/v1/oauth2/token"
SEARCH_PATH = "/v1/products/search"


def detail_path(origin_product_no: int) -> str:
    return f"/v2/products/origin-products/{origin_product_no}"


def token_form(
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = TEST_CLIENT_SECRET,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """A well-formed token request body, signed like the official samples do."""
    timestamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000) - 1000
    return {
        "client_id": client_id,
        "timestamp": str(timestamp),
        "grant_type": "client_credentials",
        "client_secret_sign": client_secret_sign(client_id, timestamp, client_secret),
        "type": "SELF",
    }


def fetch_token(client: httpx.Client) -> str:
    response = client.post(TOKEN_PATH, data=token_form())
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
