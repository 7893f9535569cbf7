"""One verifying TLS context per process, shared by every HTTP client the API clients open.

httpx builds a context per `httpx.Client` and loads the whole CA bundle into it: 25-70 ms each on
these machines. A `CommerceApiClient` holds two (the API, the picture CDN), and one is made per
store in every sync and package run, so the bundle was loaded again and again on each run's path
(two to four times for one store's sync and package run, forty times for twenty stores). A context
is safe to share between clients and threads; it is built the way httpx builds its own, and again
when SSL_CERT_FILE or SSL_CERT_DIR (which httpx honours) changes.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx


def shared_tls_context() -> ssl.SSLContext:
    return _context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _context_for(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # The arguments key the cache; httpx reads the same variables itself.
    return httpx.create_ssl_context(verify=True, trust_env=True)
