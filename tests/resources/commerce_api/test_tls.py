"""The API clients of a process share one verifying TLS context (resources/commerce_api/tls.py)."""

from __future__ import annotations

import ssl

import certifi
import pytest

from resources.commerce_api import CommerceApiClient, tls


@pytest.fixture
def contexts_built(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every context httpx builds from here on (it calls ssl.create_default_context for each)."""
    built: list[ssl.SSLContext] = []
    create = ssl.create_default_context

    def counting(*args, **kwargs) -> ssl.SSLContext:
        built.append(create(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    tls._context_for.cache_clear()
    yield built
    tls._context_for.cache_clear()


def new_client() -> CommerceApiClient:
    return CommerceApiClient(base_url="https://api.commerce.naver.com", client_id="app", client_secret="s")


def test_clients_load_the_ca_bundle_once_per_process_and_still_verify(contexts_built: list[ssl.SSLContext]) -> None:
    clients = [new_client() for _ in range(3)]  # two HTTP clients each: the API and the picture CDN

    assert len(contexts_built) == 1
    assert contexts_built[0].verify_mode == ssl.CERT_REQUIRED and contexts_built[0].check_hostname
    for client in clients:
        client.close()


def test_a_changed_ssl_cert_file_gets_a_context_of_its_own(contexts_built: list[ssl.SSLContext],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    new_client().close()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    new_client().close()
    new_client().close()

    assert len(contexts_built) == 2
