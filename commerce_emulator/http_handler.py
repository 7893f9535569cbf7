"""The HTTP/1.1 layer: a threading server that keeps connections alive and can reset them on purpose."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .api_errors import internal_error
from .gateway import new_trace_id
from .replies import Reply, encode_json
from .router import Router

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
SERVER_NAME = "naver-commerce-emulator"


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; remembers open connections so stop() can close idle keep-alives."""

    daemon_threads = True
    request_queue_size = 256  # benchmarks open many connections at once
    # Assigned once bound, before serving: the routes need the URL, which needs the chosen port.
    router: Router

    def __init__(self, address: tuple[str, int]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._open_connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorRequestHandler)

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._open_connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Wake handler threads blocked reading idle keep-alive connections so they exit."""
        with self._connections_lock:
            connections = list(self._open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small responses must not wait for delayed ACKs
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        return SERVER_NAME

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        # Silent by default: per-request logging would cost throughput and fill test output.
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # Every client of this API sends Content-Length; refusing chunked bodies keeps parsing simple.
            self.close_connection = True
            self._send(
                Reply(411, encode_json({"error": "send a Content-Length; chunked request bodies are not supported"}))
            )
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True  # the rest of the stream cannot be trusted
            self._send(Reply(413 if length > 0 else 400, encode_json({"error": "bad Content-Length"})))
            return
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.server.router.route(method, url.path, url.query, self.headers, body)
        except Exception:
            logger.exception("emulator failed to answer %s %s", method, url.path)
            trace_id = new_trace_id()
            reply = Reply(500, encode_json(internal_error().body(trace_id)), [("GNCP-GW-Trace-ID", trace_id)])
        if reply.reset:
            self._reset_connection()
        else:
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        # Status line, headers and body in one write: one segment per small response.
        lines = [
            f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in reply.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + reply.body)
        except OSError:
            self.close_connection = True  # the client went away; nothing left to tell it

    def _reset_connection(self) -> None:
        """Abort the connection with a TCP RST and no response, as a crashing proxy would."""
        self.close_connection = True
        connection = self.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference to the socket; close it first or close() would not
        # release the descriptor, and no RST would be sent until the handler returns.
        self.rfile.close()
        connection.close()
