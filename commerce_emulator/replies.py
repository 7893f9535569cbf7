"""What the HTTP layer sends back: a status, headers and body, or an abrupt connection reset."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_CONTENT_TYPE
    reset: bool = False  # drop the TCP connection with an RST instead of answering


def encode_json(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_reply(status: int, payload: object, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, encode_json(payload), headers or [])


RESET = Reply(reset=True)
