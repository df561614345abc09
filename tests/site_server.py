"""A small threaded HTTP server for a local site directory: the demo, the test fixtures, the benchmark.

newsarchive crawls these sites offline, on 127.0.0.1, so the server behaves like a real
news server in the ways the crawler and the archive care about, driven by the files in
the site directory:

- **Paths.** ``/a/b.html`` serves ``ROOT/a/b.html``; ``/a/`` serves ``ROOT/a/index.html``;
  ``/a`` (a directory) redirects to ``/a/`` with 301. The query string does not take part
  in the lookup (``/a.html?utm_source=x`` serves ``a.html``). Anything missing, outside
  the root, or a ``.toml`` file (``_site.toml``, a ``sources.toml`` kept beside the site:
  configuration, not content) answers 404 with a small HTML body.
- **``{{BASE}}``.** In text files (``.html .htm .xml .txt .css .js .json .svg``) every
  ``{{BASE}}`` is replaced by the server's base URL (``http://127.0.0.1:PORT``) when
  served: feeds, sitemaps, canonical links and robots.txt need absolute URLs, and the
  port is only known at start. The replacement works on bytes, so a page stored in
  windows-1256 or ISO-8859-1 is served byte for byte as stored (any ASCII-compatible
  encoding works; UTF-16 does not).
- **Content-Type** from the extension (:data:`CONTENT_TYPES`; ``.html`` is
  ``text/html; charset=utf-8``); an ``.xml`` file whose root element is ``<rss`` or
  ``<feed`` is ``application/rss+xml`` or ``application/atom+xml``.
- **gzip.** A text file requested with ``Accept-Encoding: gzip`` is sent with
  ``Content-Encoding: gzip`` (and ``Vary: Accept-Encoding``), so the crawler's capture of
  compressed bytes is exercised.
- **Conditional GET.** Every file has an ``ETag`` (a hash of the bytes sent; the gzip
  form's tag ends in ``-gzip``) and a ``Last-Modified`` (the file's mtime);
  ``If-None-Match``, else ``If-Modified-Since``, is answered 304 when it matches.
- Files are read on every request, so a test may change a page between two crawls;
  ``_site.toml`` is re-read when it changes. ``HEAD`` is supported; HTTP/1.1 keep-alive.
- Nothing is logged to stderr: every request is appended to :attr:`SiteServer.log`.

``_site.toml`` (optional, at the root) holds what a file cannot say about itself; the
keys are URL paths without query string::

    [redirects]                      # answered 301, Location made absolute
    "/latest" = "/en/2026/11/05/story.html"
    "/moved" = { to = "/new.html", status = 302 }   # another 3xx

    [status]                         # answered with that status and a small HTML body
    "/gone.html" = 410

    [headers."/ar/page.html"]        # added to the response, replacing same-named ones
    Content-Type = "text/html; charset=windows-1256"
"""

from __future__ import annotations

import gzip
import hashlib
import html
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate, mktime_tz, parsedate_tz
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from archive.web.content_coding import accepts_encoding

BASE_PLACEHOLDER = "{{BASE}}"
SITE_CONFIG = "_site.toml"
DEMO_SITE = Path(__file__).with_name("demo_site")  # the example newspaper `newsarchive demo` serves
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


class SiteConfigError(ValueError):
    """A ``_site.toml`` that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered, in arrival order."""

    method: str
    path: str  # as sent, query string included
    status: int


@dataclass(frozen=True)
class Reply:
    """A response before it is written: status, headers and the body a GET would get."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(frozen=True)
class SiteRules:
    """The parsed ``_site.toml``: redirects, fixed statuses and extra headers, by path."""

    redirects: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    status: Mapping[str, int] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SiteRules:
        """Read and check a ``_site.toml``; a missing file means no rules."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except tomllib.TOMLDecodeError as exc:
            raise SiteConfigError(f"{path}: not valid TOML: {exc}") from None

        def fail(key: str, problem: str) -> SiteConfigError:
            return SiteConfigError(f"{path}: {key}: {problem}")

        unknown = set(data) - {"redirects", "status", "headers"}
        if unknown:
            raise fail(sorted(unknown)[0], "unknown table (known: headers, redirects, status)")
        redirects: dict[str, tuple[int, str]] = {}
        for source, target in data.get("redirects", {}).items():
            if isinstance(target, str):
                redirects[source] = (301, target)
            elif (
                isinstance(target, dict)
                and isinstance(target.get("to"), str)
                and (target.get("status", 301) in (301, 302, 303, 307, 308))
            ):
                redirects[source] = (target.get("status", 301), target["to"])
            else:
                raise fail(f"redirects.{source!r}", 'give "/target" or { to = "/target", status = 3xx }')
        status = data.get("status", {})
        for key, code in status.items():
            if not isinstance(code, int) or not 200 <= code <= 599 or 300 <= code < 400:
                raise fail(
                    f"status.{key!r}", f"{code!r} is not a 2xx, 4xx or 5xx code (3xx: use [redirects])"
                )
        headers = data.get("headers", {})
        for key, table in headers.items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise fail(f"headers.{key!r}", "must be a table of header names to string values")
        return cls(redirects=redirects, status=status, headers=headers)


class Site:
    """A site directory answering requests under a base URL, apart from the socket handling."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self._rules = SiteRules()
        self._rules_stamp: tuple[int, int] | None = None
        self._rules_lock = threading.Lock()

    def respond(self, path: str, request_headers: Message) -> Reply:
        """The reply to a GET of ``path`` (HEAD sends the same without the body)."""
        url_path = unquote(urlsplit(path).path) or "/"
        try:
            rules = self.rules()
        except SiteConfigError as exc:  # edited into a bad state while serving: say so to the client
            return _html_reply(500, str(exc))
        reply = self._reply_for(url_path, rules, request_headers)
        extra = rules.headers.get(url_path)
        if extra:
            names = {name.lower() for name in extra}
            reply = Reply(
                reply.status,
                [(k, v) for k, v in reply.headers if k.lower() not in names] + list(extra.items()),
                reply.body,
            )
        return reply

    def _reply_for(self, url_path: str, rules: SiteRules, request_headers: Message) -> Reply:
        if url_path in rules.status:
            return _html_reply(rules.status[url_path], url_path)
        if url_path in rules.redirects:
            code, target = rules.redirects[url_path]
            return self._redirect(code, target)
        file = self._file_for(url_path)
        if file is None:
            return _html_reply(404, url_path)
        if file.is_dir():
            return self._redirect(301, url_path + "/")
        try:
            data = file.read_bytes()
            mtime = int(file.stat().st_mtime)
        except OSError:  # deleted between the lookup and the read: a test is changing the site
            return _html_reply(404, url_path)
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
        reply = _html_reply(code, location)
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

    def rules(self) -> SiteRules:
        """The rules of ``_site.toml``, re-read only when the file changed."""
        config = self.root / SITE_CONFIG
        try:
            stat = config.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._rules_lock:
            if stamp != self._rules_stamp:
                self._rules = SiteRules.load(config)
                self._rules_stamp = stamp
            return self._rules


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


def _html_reply(status: int, detail: str) -> Reply:
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
        self.server.log.append(LoggedRequest(self.command, self.path, reply.status))
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Silent: requests are recorded in ``SiteServer.log``, not printed."""


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 resets connections under a crawl's burst
    site: Site
    log: list[LoggedRequest]

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Ignore clients hanging up (a crawler closing at shutdown); report real errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteServer:
    """Serves a site directory from a background thread; usable as a context manager."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
        self.host = host
        self.port = port
        self.log: list[LoggedRequest] = []  # list.append is atomic: handler threads share it safely
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._httpd is None:
            raise RuntimeError("the site server is not running: call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def paths(self) -> list[str]:
        """Paths requested so far, query strings included, in arrival order."""
        return [entry.path for entry in self.log]

    def start(self) -> SiteServer:
        """Bind the port and start serving."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: no such site directory")
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.site = Site(self.root, self.base_url)
        self._httpd.log = self.log
        try:
            self._httpd.site.rules()  # a bad _site.toml fails here, not in a request thread
        except SiteConfigError:
            self._httpd.server_close()
            self._httpd = None
            raise
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),  # poll interval in seconds: stop() returns that quickly
            name=f"site-server-{self.base_url}",
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

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def serve_site(root: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `root` in a background thread; yields the base URL ('http://127.0.0.1:PORT')."""
    with SiteServer(root, host, port) as server:
        yield server.base_url
