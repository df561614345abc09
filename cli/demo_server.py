"""The demo's web server: a site folder (the demo newspaper, rendered by :mod:`cli.demo_pages`) on 127.0.0.1.

Only what ``newsarchive demo`` needs to look like a real news server to the crawler:

- **Paths.** ``/a/b.html`` serves ``ROOT/a/b.html``; ``/a/`` serves ``ROOT/a/index.html``;
  ``/a`` (a directory) redirects to ``/a/`` with 301. The query string does not take part
  in the lookup (``/a.html?utm_source=x`` serves ``a.html``). Anything missing, outside
  the root, or a ``.toml`` file (``_site.toml``, ``sources.toml``: configuration, not
  content) answers 404 with a small HTML body.
- **``{{BASE}}``.** In text files (``.html .htm .xml .txt .css .js .json .svg``) every
  ``{{BASE}}`` is replaced by the server's base URL (``http://127.0.0.1:PORT``) when
  served: feeds, sitemaps, canonical links and robots.txt need absolute URLs, and the
  port is only known at start. The replacement works on bytes, so a page stored in
  windows-1256 or ISO-8859-1 is served byte for byte as stored.
- **Content-Type** from the extension (:data:`CONTENT_TYPES`); an ``.xml`` file whose root
  element is ``<rss`` or ``<feed`` is ``application/rss+xml`` or ``application/atom+xml``.
- **gzip.** A text file requested with ``Accept-Encoding: gzip`` is sent with
  ``Content-Encoding: gzip`` (and ``Vary: Accept-Encoding``).
- **Conditional GET.** Every file has an ``ETag`` (a hash of the bytes sent; the gzip
  form's tag ends in ``-gzip``) and a ``Last-Modified`` (the file's mtime);
  ``If-None-Match``, else ``If-Modified-Since``, is answered 304 when it matches: a second
  demo shows the incremental crawl.
- ``HEAD`` is supported; HTTP/1.1 keep-alive. Nothing is logged to stderr.

``_site.toml`` (optional, at the root) holds what a file cannot say about itself; the
keys are URL paths without query string::

    [redirects]                      # answered 301, Location made absolute
    "/latest" = "/en/2026/11/05/story.html"
    "/moved" = { to = "/new.html", status = 302 }   # another 3xx

    [headers."/ar/page.html"]        # added to the response, replacing same-named ones
    Content-Type = "text/html; charset=windows-1256"

The test suite's server, ``tests/site_server.py``, extends this one (a request log, a
``[status]`` table, ``_site.toml`` re-read when it changes).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import sys
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate, mktime_tz, parsedate_tz
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import unquote, urlsplit

from archive.web.content_coding import accepts_encoding

BASE_PLACEHOLDER = "{{BASE}}"
SITE_CONFIG = "_site.toml"
TEXT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".txt", ".css", ".js", ".json", ".svg"})
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".gif": "image/gif",
    ".htm": "text/html; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".ico": "image/x-icon",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".xml": "application/xml",  # the XML declaration carries the charset
}
FEED_SNIFF_BYTES = 512  # enough to pass an XML declaration, a stylesheet PI and a comment
REDIRECT_CODES = (301, 302, 303, 307, 308)


class SiteConfigError(ValueError):
    """A ``_site.toml`` that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Reply:
    """A response before it is written: status, headers and the body a GET would get."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(frozen=True)
class SiteRules:
    """The parsed ``_site.toml``: redirects and extra headers, by path."""

    TABLES: ClassVar[tuple[str, ...]] = ("headers", "redirects")

    redirects: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and check a ``_site.toml``; a missing file means no rules."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except tomllib.TOMLDecodeError as exc:
            raise SiteConfigError(f"{path}: not valid TOML: {exc}") from None

        def fail(key: str, problem: str) -> SiteConfigError:
            return SiteConfigError(f"{path}: {key}: {problem}")

        unknown = set(data) - set(cls.TABLES)
        if unknown:
            raise fail(sorted(unknown)[0], f"unknown table (known: {', '.join(sorted(cls.TABLES))})")
        return cls(**cls.parse(data, fail))

    @classmethod
    def parse(cls, data: dict[str, Any], fail: Callable[[str, str], SiteConfigError]) -> dict[str, Any]:
        """The fields of the rules from the TOML tables, checked."""
        redirects: dict[str, tuple[int, str]] = {}
        for source, target in data.get("redirects", {}).items():
            if isinstance(target, str):
                redirects[source] = (301, target)
            elif (
                isinstance(target, dict)
                and isinstance(target.get("to"), str)
                and target.get("status", 301) in REDIRECT_CODES
            ):
                redirects[source] = (target.get("status", 301), target["to"])
            else:
                raise fail(f"redirects.{source!r}", 'give "/target" or { to = "/target", status = 3xx }')
        headers = data.get("headers", {})
        for key, table in headers.items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise fail(f"headers.{key!r}", "must be a table of header names to string values")
        return {"redirects": redirects, "headers": headers}


class Site:
    """A site directory answering requests under a base URL, apart from the socket handling."""

    rules_class: type[SiteRules] = SiteRules

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def rules(self) -> SiteRules:
        """The rules of ``_site.toml``, read once."""
        try:
            return self._rules
        except AttributeError:
            self._rules = self.rules_class.load(self.root / SITE_CONFIG)
            return self._rules

    def respond(self, path: str, request_headers: Message) -> Reply:
        """The reply to a GET of ``path`` (HEAD sends the same without the body)."""
        url_path = unquote(urlsplit(path).path) or "/"
        rules = self.rules()
        reply = self.reply_for(url_path, rules, request_headers)
        extra = rules.headers.get(url_path)
        if extra:
            names = {name.lower() for name in extra}
            reply = Reply(
                reply.status,
                [(k, v) for k, v in reply.headers if k.lower() not in names] + list(extra.items()),
                reply.body,
            )
        return reply

    def reply_for(self, url_path: str, rules: SiteRules, request_headers: Message) -> Reply:
        """The reply for a URL path, before the extra headers of ``_site.toml``."""
        if url_path in rules.redirects:
            code, target = rules.redirects[url_path]
            return self._redirect(code, target)
        file = self._file_for(url_path)
        if file is None:
            return html_reply(404, url_path)
        if file.is_dir():
            return self._redirect(301, url_path + "/")
        try:
            data = file.read_bytes()
            mtime = int(file.stat().st_mtime)
        except OSError:  # deleted between the lookup and the read
            return html_reply(404, url_path)
        return self._file_reply(file.suffix.lower(), data, mtime, request_headers)

    def _file_reply(self, suffix: str, data: bytes, mtime: int, request_headers: Message) -> Reply:
        headers = [("Content-Type", _content_type(suffix, data))]
        if suffix in TEXT_SUFFIXES:
            data = data.replace(BASE_PLACEHOLDER.encode("ascii"), self.base_url.encode("ascii"))
            headers.append(("Vary", "Accept-Encoding"))
        etag = hashlib.sha1(data).hexdigest()[:20]
        if suffix in TEXT_SUFFIXES and accepts_encoding(request_headers.get("Accept-Encoding", ""), "gzip"):
            data = gzip.compress(data, mtime=0)  # mtime=0: the same file always gives the same bytes
            etag += "-gzip"
            headers.append(("Content-Encoding", "gzip"))
        headers += [("ETag", f'"{etag}"'), ("Last-Modified", formatdate(mtime, usegmt=True))]
        if _not_modified(request_headers, f'"{etag}"', mtime):
            # no Content-Type or Content-Encoding: a 304 has no body to describe or decode
            kept = {"ETag", "Last-Modified", "Vary"}
            return Reply(304, [h for h in headers if h[0] in kept])
        return Reply(200, headers, data)

    def _redirect(self, code: int, target: str) -> Reply:
        location = target if urlsplit(target).scheme else self.base_url + target
        reply = html_reply(code, location)
        return Reply(code, [*reply.headers, ("Location", location)], reply.body)

    def _file_for(self, url_path: str) -> Path | None:
        """The file or directory a URL path names, or None when it is outside the site or configuration."""
        parts = [p for p in url_path.split("/") if p not in ("", ".")]
        if ".." in parts or (parts and parts[-1].endswith(".toml")):
            return None
        target = self.root.joinpath(*parts)
        if target.is_dir() and url_path.endswith("/"):
            target = target / "index.html"
        return target if target.exists() else None


def _content_type(suffix: str, data: bytes) -> str:
    if suffix == ".xml":
        head = data[:FEED_SNIFF_BYTES]
        if b"<rss" in head:
            return "application/rss+xml"
        if b"<feed" in head:
            return "application/atom+xml"
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def _not_modified(request_headers: Message, etag: str, mtime: int) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            return mtime <= mktime_tz(parsedate_tz(if_modified_since))
        except (TypeError, ValueError):  # unparsable date: answer in full
            return False
    return False


def html_reply(status: int, detail: str) -> Reply:
    """A small HTML page saying what the status is about."""
    phrase = HTTPStatus(status).phrase
    body = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{status} {phrase}</title></head>'
        f"<body><h1>{status} {phrase}</h1><p>{html.escape(detail)}</p></body></html>\n"
    ).encode()
    return Reply(status, [("Content-Type", "text/html; charset=utf-8")], body)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as Scrapy expects of a real server
    timeout = 30  # seconds an idle keep-alive connection is kept

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        reply = self.server.site.respond(self.path, self.headers)
        self.server.answered(self.command, self.path, reply.status)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Silent."""


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 resets connections under a crawl's burst
    site: Site
    answered: Callable[[str, str, int], None]

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Ignore clients hanging up (a crawler closing at shutdown); report real errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class BackgroundServer:
    """An ``http.server`` answering from a daemon thread: start, stop, and ``with``.

    Subclasses make the server (:meth:`make_server`) and may attach what its handler needs
    before the first request (:meth:`attach`); the demo's server and the tests' servers
    (``tests/site_server.py``, ``tests/fault_server.py``) share this lifecycle.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running: call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def make_server(self) -> ThreadingHTTPServer:
        """The bound server, not yet serving."""
        raise NotImplementedError

    def attach(self, httpd: ThreadingHTTPServer) -> None:
        """Give the bound server what its handler needs; an exception here frees the port again."""

    def start(self) -> Self:
        """Bind the port and start serving."""
        self._httpd = self.make_server()
        try:
            self.attach(self._httpd)
        except BaseException:
            self._httpd.server_close()
            self._httpd = None
            raise
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),  # poll interval in seconds: stop() returns that quickly
            name=f"{type(self).__name__}-{self.base_url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class DemoServer(BackgroundServer):
    """Serves a site directory from a background thread; usable as a context manager."""

    site_class: type[Site] = Site

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.root = Path(root)

    def answered(self, method: str, path: str, status: int) -> None:
        """Called for every request, from the thread that answered it."""

    def make_server(self) -> _HTTPServer:
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: no such site directory")
        return _HTTPServer((self.host, self.port), _Handler)

    def attach(self, httpd: ThreadingHTTPServer) -> None:
        """The site and the request callback; a bad ``_site.toml`` fails here."""
        assert isinstance(httpd, _HTTPServer)
        httpd.site = self.site_class(self.root, self.base_url)
        httpd.answered = self.answered
        httpd.site.rules()
