"""`/_emulator/*`: JSON control endpoints that expose the EmulatorServer controls over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .replies import Reply, json_reply

if TYPE_CHECKING:
    from .server import EmulatorServer


class ControlApi:
    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._actions: dict[str, tuple[str, Callable[[dict], Any]]] = {
            "modify": ("POST", self._modify),
            "delete": ("POST", lambda body: {"deleted": server.delete(_int_list(body, "origin_product_nos"),
                                                                      **_target(body))}),
            "rate": ("POST", self._rate),
            "latency": ("POST", self._latency),
            "faults": ("POST", self._faults),
            "inject": ("POST", self._inject),
            "break": ("POST", lambda body: _done(server.break_products(_int_list(body, "origin_product_nos"),
                                                                        body.get("kind", "404"), **_target(body)))),
            "expire-tokens": ("POST", lambda body: _done(server.expire_tokens())),
            "clear-penalty": ("POST", lambda body: _done(server.clear_penalty())),
            "reset-stats": ("POST", lambda body: _done(server.reset_stats())),
            "tokens": ("GET", lambda body: {"tokens": server.issued_tokens()}),
            "stats": ("GET", lambda body: server.stats()),
            "health": (
                "GET",
                lambda body: {"status": "ok", "products": server.catalog.size, "base_url": server.base_url},
            ),
        }

    def handle(self, method: str, action: str, raw_body: bytes) -> Reply:
        if action not in self._actions:
            return json_reply(
                404, {"error": f"unknown control endpoint /_emulator/{action}", "endpoints": sorted(self._actions)}
            )
        expected_method, run = self._actions[action]
        if method != expected_method:
            return json_reply(
                405, {"error": f"/_emulator/{action} takes {expected_method}"}, [("Allow", expected_method)]
            )
        try:
            body = json.loads(raw_body) if raw_body.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
            return json_reply(200, run(body))
        except (ValueError, LookupError, TypeError) as error:
            return json_reply(400, {"error": str(error)})

    def _modify(self, body: dict) -> dict:
        target = _target(body)
        if "origin_product_nos" in body:
            numbers = _int_list(body, "origin_product_nos")
            return {"modified": self._server.modify(origin_product_nos=numbers, **target)}
        if "fraction" not in body:
            raise ValueError('modify takes {"fraction", "seed"} or {"origin_product_nos"}, '
                             'and "client_id"/"account_id" for another store than the default app\'s')
        fraction, seed = float(body["fraction"]), int(body.get("seed", 0))
        return {"modified": self._server.modify(fraction=fraction, seed=seed, **target)}

    def _rate(self, body: dict) -> dict:
        if "rate" not in body:
            raise ValueError('rate takes {"rate", "api"?, "client_id"?}')
        client_id = _optional_text(body, "client_id")
        self._server.set_rate(float(body["rate"]), body.get("api"), client_id=client_id)
        return {"ok": True, "rates": self._server.rates(client_id)}

    def _latency(self, body: dict) -> dict:
        self._server.set_latency(float(body.get("mean_ms", 0.0)), float(body.get("jitter_ms", 0.0)))
        return {"ok": True}

    def _faults(self, body: dict) -> dict:
        if "api" not in body:
            raise ValueError('faults takes {"api", "http_500"?, "reset"?, "slow"?, "malformed"?, "seed"?}')
        self._server.set_faults(
            body["api"],
            http_500=float(body.get("http_500", 0.0)),
            reset=float(body.get("reset", 0.0)),
            slow=float(body.get("slow", 0.0)),
            malformed=float(body.get("malformed", 0.0)),
            seed=int(body.get("seed", 0)),
        )
        return {"ok": True}

    def _inject(self, body: dict) -> dict:
        if "api" not in body or "kind" not in body:
            raise ValueError('inject takes {"api", "kind", "count"?}')
        self._server.inject(body["api"], str(body["kind"]), int(body.get("count", 1)))
        return {"ok": True}


def _int_list(body: dict, name: str) -> list[int]:
    values = body.get(name)
    if not isinstance(values, list) or any(isinstance(value, bool) or not isinstance(value, int) for value in values):
        raise ValueError(f"{name} must be a list of integers")
    return values


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def _target(body: dict) -> dict[str, str | None]:
    """The store a catalog control acts on: none named is the default app's."""
    return {"client_id": _optional_text(body, "client_id"), "account_id": _optional_text(body, "account_id")}


def _done(_: None) -> dict:
    return {"ok": True}
