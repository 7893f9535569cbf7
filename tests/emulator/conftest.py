"""Fixtures for the emulator tests: a real EmulatorServer on a free loopback port and httpx clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer

from tests.support.emulator_calls import TEST_CLIENT_SECRET, fetch_token


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators with config overrides (fast, small catalog, generous rate by default); all stop at teardown."""
    servers: list[EmulatorServer] = []

    def start(**overrides: object) -> EmulatorServer:
        settings: dict = {"products": 200, "seed": 7, "rate": 1000.0, "port": 0, "client_secret": TEST_CLIENT_SECRET}
        settings.update(overrides)
        server = EmulatorServer(EmulatorConfig(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(start_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return start_emulator()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as http:
        yield http


@pytest.fixture
def authed(client: httpx.Client) -> httpx.Client:
    """The client with a valid bearer token in its default headers."""
    client.headers["Authorization"] = f"Bearer {fetch_token(client)}"
    return client
