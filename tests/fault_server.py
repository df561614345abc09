"""A fault-injection HTTP server for crawl tests: the hostile web, on 127.0.0.1.

:class:`FaultServer` answers each path with a *fault*, a function that writes whatever it
likes to the socket through an :class:`Exchange`: a well-formed reply, a lie about the
charset, a decompression bomb, a reset in the middle of the headers, headers dripped
one byte a second. Every request is logged with its arrival time and what was done
(:attr:`FaultServer.log`), so a test can tell what the crawler asked for, when, and how
often. Paths are matched without their query string and ``;`` parameters, so
``/a.html;jsessionid=1?x=2`` is ``/a.html``; a route ending in ``*`` takes every path
that starts with what precedes it.

The faults here are generic; :func:`tests.hostile_site.build_hostile_site` puts them
together into a news site.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import brotli

from cli.demo_server import BackgroundServer

DRIP_INTERVAL = 0.5  # seconds between the bytes of a slow-loris reply
DRIP_LIMIT = 120.0  # seconds a drip goes on at most (the crawler should give up long before)
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """One request the server received: when (time.monotonic()), what, and what it did."""

    time: float
    path: str  # as sent, query string included
    attempt: int  # 1 for the first request of this path (without query and ; parameters)
    outcome: str  # "200", "503", "reset", "drip", ...
    host: str = ""


class Exchange:
    """One request being answered; a fault calls one of the reply methods."""

    def __init__(self, handler: _Handler, attempt: int) -> None:
        self.handler = handler
        self.attempt = attempt
        self.path = handler.path
        self.base_url = handler.server.base_url
        self.outcome = ""

    def reply(self, status: int, headers: list[tuple[str, str]] | None = None, body: bytes = b"",
              *, content_length: bool = True) -> None:
        """A well-formed response (Content-Length set unless ``content_length`` is False: then close-delimited)."""
        self.outcome = str(status)
        self.send_head(status, headers, len(body) if content_length else None)
        if self.handler.command != "HEAD":
            self.write(body)
        if not content_length:
            self.handler.close_connection = True

    def stream(self, status: int, headers: list[tuple[str, str]], chunks: Iterator[bytes],
               length: int | None) -> None:
        """A long body, written chunk by chunk until done or the client hangs up."""
        self.outcome = str(status)
        self.send_head(status, headers, length)
        try:
            for chunk in chunks:
                self.write(chunk)
        except OSError:
            self.outcome += " (client hung up)"
        self.handler.close_connection = True

    def send_head(self, status: int, headers: list[tuple[str, str]] | None, length: int | None) -> None:
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        head += [f"{name}: {value}" for name, value in headers or []]
        if length is not None:
            head.append(f"Content-Length: {length}")
        else:
            head.append("Connection: close")
        self.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def reset(self, sent: bytes = b"") -> None:
        """Send ``sent``, then abort the connection with a TCP reset (SO_LINGER 0)."""
        self.outcome = "reset"
        if sent:
            self.write(sent)
        sock = self.handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        self.handler.close_connection = True

    def close(self, sent: bytes = b"") -> None:
        """Send ``sent``, then close the connection cleanly (FIN), whatever was promised."""
        self.outcome = "closed early"
        if sent:
            self.write(sent)
        self.handler.connection.shutdown(socket.SHUT_RDWR)
        self.handler.close_connection = True

    def drip(self, data: bytes, stop: threading.Event) -> None:
        """Send ``data`` one byte per DRIP_INTERVAL (slow loris) until the client gives up."""
        self.outcome = "drip"
        started = time.monotonic()
        try:
            for byte in data:
                if stop.wait(DRIP_INTERVAL) or time.monotonic() - started > DRIP_LIMIT:
                    break
                self.write(bytes([byte]))
        except OSError:
            self.outcome = f"drip, client gave up after {time.monotonic() - started:.0f} s"
        self.handler.close_connection = True


Fault = Callable[[Exchange], None]


class FaultServer(BackgroundServer):
    """Serves faults by path from a background thread; usable as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.routes: dict[str, Fault] = {}
        self.log: list[Hit] = []
        self.stopping = threading.Event()
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def route(self, path: str, fault: Fault) -> None:
        self.routes[path] = fault

    def _prefix_route(self, key: str) -> Fault | None:
        """The route of the longest ``prefix*`` that ``key`` starts with."""
        prefixes = [p for p in self.routes if p.endswith("*") and key.startswith(p[:-1])]
        return self.routes[max(prefixes, key=len)] if prefixes else None

    def hits(self, path: str) -> list[Hit]:
        """The requests of ``path`` (without query and ; parameters), in order."""
        return [hit for hit in self.log if route_key(hit.path) == path]

    def _answer(self, handler: _Handler) -> None:
        key = route_key(handler.path)
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
        exchange = Exchange(handler, attempt)
        arrived = time.monotonic()
        fault = self.routes.get(key) or self._prefix_route(key) or not_found
        try:
            fault(exchange)
        finally:
            self.log.append(Hit(arrived, handler.path, attempt, exchange.outcome or "?", self.host))

    def make_server(self) -> _HTTPServer:
        return _HTTPServer((self.host, self.port), _Handler)

    def attach(self, httpd: ThreadingHTTPServer) -> None:
        assert isinstance(httpd, _HTTPServer)
        httpd.fault_server = self
        httpd.base_url = self.base_url

    def stop(self) -> None:
        """Release the drips first: a dripping handler would hold shutdown up."""
        self.stopping.set()
        super().stop()


def route_key(path: str) -> str:
    return urlsplit(path).path.split(";")[0]


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def do_GET(self) -> None:
        self.server.fault_server._answer(self)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent: FaultServer.log has every request."""

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:  # the fault closed or reset the socket itself
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fault_server: FaultServer
    base_url: str

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Faults break connections on purpose, and crawlers hang up: neither is worth a traceback."""


# --- Faults --------------------------------------------------------------------------------
def not_found(exchange: Exchange) -> None:
    exchange.reply(404, [("Content-Type", "text/html; charset=utf-8")], b"<h1>404 Not Found</h1>")


def page(body: bytes | Callable[[Exchange], bytes], content_type: str = "text/html; charset=utf-8",
         headers: list[tuple[str, str]] | None = None) -> Fault:
    """A 200 with ``body`` (bytes, or made per request, e.g. to mint session ids)."""

    def fault(exchange: Exchange) -> None:
        data = body(exchange) if callable(body) else body
        exchange.reply(200, [("Content-Type", content_type), *(headers or [])], data)

    return fault


def redirect(target: str | Callable[[Exchange], str], status: int = 302) -> Fault:
    """A redirect to ``target`` (made absolute against the server when it is a path)."""

    def fault(exchange: Exchange) -> None:
        location = target(exchange) if callable(target) else target
        if location.startswith("/"):
            location = exchange.base_url + location
        exchange.reply(status, [("Location", location), ("Content-Type", "text/plain")], b"moved")

    return fault


def failing_first(times: int, status: int, then: Fault, retry_after: str | None = None) -> Fault:
    """``status`` (with Retry-After) for the first ``times`` requests, then ``then``."""

    def fault(exchange: Exchange) -> None:
        if exchange.attempt > times:
            return then(exchange)
        headers = [("Content-Type", "text/plain")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        exchange.reply(status, headers, f"{status}: try again later".encode())
        return None

    return fault


def always(status: int) -> Fault:
    def fault(exchange: Exchange) -> None:
        exchange.reply(status, [("Content-Type", "text/html; charset=utf-8")], f"<h1>{status}</h1>".encode())

    return fault


@cache
def bomb(encoding: str, size: int) -> bytes:
    """``size`` zero bytes, compressed with ``encoding`` (gzip or br): a few hundred KB on the wire.

    The gzip bomb is one member of 1 MiB of zeros repeated (a gzip file may hold many
    members, and decoders read through them all): quick to make, as large once decoded.
    """
    if encoding == "gzip":
        member = gzip.compress(bytes(CHUNK), compresslevel=9, mtime=0)
        return member * (size // CHUNK)
    return brotli.compress(bytes(size), quality=1)


def compressed(encoding: str, data: bytes, content_type: str = "text/html; charset=utf-8") -> Fault:
    """``data`` sent as is under ``Content-Encoding: encoding`` (a bomb, a cut stream, or no stream)."""

    def fault(exchange: Exchange) -> None:
        exchange.reply(200, [("Content-Type", content_type), ("Content-Encoding", encoding)], data)

    return fault


def huge(size: int, announce_length: bool, block: bytes = b"<p>filler filler filler filler.</p>\n" * 64) -> Fault:
    """An HTML page of ``size`` bytes, streamed (with a Content-Length, or close-delimited)."""

    def chunks() -> Iterator[bytes]:
        yield b"<!DOCTYPE html><html><head><title>Huge</title></head><body>"
        sent = 0
        unit = block * max(1, CHUNK // len(block))
        while sent < size:
            yield unit[: size - sent]
            sent += len(unit)

    def fault(exchange: Exchange) -> None:
        length = size + len(b"<!DOCTYPE html><html><head><title>Huge</title></head><body>")
        exchange.stream(200, [("Content-Type", "text/html; charset=utf-8")], chunks(),
                        length if announce_length else None)

    return fault


def slow_headers(stop: threading.Event, first_attempts: int, then: Fault) -> Fault:
    """Slow loris: the status line and headers dripped a byte at a time, for the first attempts."""

    def fault(exchange: Exchange) -> None:
        if exchange.attempt > first_attempts:
            return then(exchange)
        exchange.drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 10_000, stop)
        return None

    return fault


def slow_body(stop: threading.Event, first_attempts: int, then: Fault) -> Fault:
    """Slow loris: prompt headers, then a body dripped a byte at a time, for the first attempts."""

    def fault(exchange: Exchange) -> None:
        if exchange.attempt > first_attempts:
            return then(exchange)
        exchange.send_head(200, [("Content-Type", "text/html; charset=utf-8")], 20_000)
        exchange.drip(b"<html><body><p>" + b"slow " * 4000, stop)
        return None

    return fault


def reset_in_headers(exchange: Exchange) -> None:
    exchange.reset(b"HTTP/1.1 200 OK\r\nContent-Type: text/ht")


def reset_in_body(exchange: Exchange) -> None:
    exchange.reset(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10000\r\n\r\n"
                   + b"<html><body><p>" + b"cut " * 700)


def short_body(exchange: Exchange) -> None:
    """Content-Length promises more than is sent before a clean close."""
    exchange.close(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10000\r\n\r\n"
                   + b"<html><body><p>short</p>")


def delayed(seconds: float, then: Fault) -> Fault:
    """``then``, after ``seconds``: a slow (not hostile) server."""

    def fault(exchange: Exchange) -> None:
        time.sleep(seconds)
        then(exchange)

    return fault
