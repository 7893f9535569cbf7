"""A picture host on loopback that serves every kind of bad picture, for the degraded-package tests.

Each path answers what `routes` holds for it (status, body), counted in `hits`; a test changes a
route to make a picture come back. `/drip/...` sends its body a few bytes at a time, slowly.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from commerce_emulator.images import render_product_image


def png_bomb(side: int = 12_000) -> bytes:
    """A PNG of side x side black pixels: about 140 KB that would decode to 144 MP."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def good_picture(number: int) -> bytes:
    return render_product_image(11, 1, number)


class BadCdn:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.hits: Counter[str] = Counter()
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                cdn.hits[self.path] += 1
                status, body = cdn.routes.get(self.path, (404, b"no such picture"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path.startswith("/drip/"):
                    for start in range(0, len(body), 64):
                        self.wfile.write(body[start:start + 64])
                        self.wfile.flush()
                        time.sleep(0.05)
                else:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        self.routes[path] = (status, body)
        return self.url(path)


@contextmanager
def bad_cdn() -> Iterator[BadCdn]:
    cdn = BadCdn()
    thread = threading.Thread(target=cdn.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cdn
    finally:
        cdn.server.shutdown()
        cdn.server.server_close()
