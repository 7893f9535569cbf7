"""The httpx clients a `CommerceApiClient` holds (the API's, the picture CDN's): the process's one
TLS context (tls.py) and no cookie jar.

Neither needs cookies: the API authenticates every call by its bearer token and the CDN serves
pictures to anyone. Keeping them is not free: for every response httpx builds urllib
compatibility objects to offer its Set-Cookie headers to a cookie jar, about 8% of the GIL a fast
sync holds (py-spy of a 20,000-product sync). httpx has no switch for it, and its `cookies`
setter wraps whatever it is given in a plain `httpx.Cookies`, so the client's own is replaced.
"""

from __future__ import annotations

from typing import Any

import httpx

from .tls import shared_tls_context


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing a response sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


def new_http_client(**options: Any) -> httpx.Client:
    client = httpx.Client(verify=shared_tls_context(), **options)
    client._cookies = _NoCookies()  # noqa: SLF001 (see the module's docstring)
    return client
