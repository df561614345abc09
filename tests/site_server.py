"""The test suite's site server: the demo's (:mod:`cli.demo_server`) with what tests need on top.

Used for the test fixtures, the replay and hostile sites and the benchmark.

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
  ``_site.toml`` is re-read when it changes, and a ``_site.toml`` edited into a bad state
  while serving is answered 500 with the error. ``HEAD`` is supported; HTTP/1.1 keep-alive.
- Nothing is logged to stderr: every request is appended to :attr:`SiteServer.log`.

Everything but the request log, ``[status]`` and the re-reading is the demo's server's.

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

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, ClassVar

from cli.demo_server import (
    BASE_PLACEHOLDER,
    CONTENT_TYPES,
    SITE_CONFIG,
    TEXT_SUFFIXES,
    DemoServer,
    Reply,
    Site,
    SiteConfigError,
    html_reply,
)
from cli.demo_server import SiteRules as DemoRules

__all__ = ["BASE_PLACEHOLDER", "CONTENT_TYPES", "SITE_CONFIG", "TEXT_SUFFIXES", "LoggedRequest",
           "SiteConfigError", "SiteRules", "SiteServer", "TestSite", "serve_site"]


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered, in arrival order."""

    method: str
    path: str  # as sent, query string included
    status: int


@dataclass(frozen=True)
class SiteRules(DemoRules):
    """The demo's rules and ``[status]``: fixed statuses, by path."""

    TABLES: ClassVar[tuple[str, ...]] = ("headers", "redirects", "status")

    status: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any], fail: Callable[[str, str], SiteConfigError]) -> dict[str, Any]:
        fields = super().parse(data, fail)
        status = data.get("status", {})
        for key, code in status.items():
            if not isinstance(code, int) or not 200 <= code <= 599 or 300 <= code < 400:
                raise fail(
                    f"status.{key!r}", f"{code!r} is not a 2xx, 4xx or 5xx code (3xx: use [redirects])"
                )
        return {**fields, "status": status}


class TestSite(Site):
    """The demo's site with ``[status]``, and ``_site.toml`` re-read when it changes."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    rules_class = SiteRules

    def __init__(self, root: Path, base_url: str) -> None:
        super().__init__(root, base_url)
        self._stamp: tuple[int, int] | None | bool = False  # False: never read
        self._lock = threading.Lock()

    def rules(self) -> SiteRules:
        """The rules of ``_site.toml``, re-read only when the file changed."""
        config = self.root / SITE_CONFIG
        try:
            stat = config.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._rules = SiteRules.load(config)
                self._stamp = stamp
            return self._rules

    def respond(self, path: str, request_headers: Message) -> Reply:
        try:
            self.rules()
        except SiteConfigError as exc:  # edited into a bad state while serving: say so to the client
            return html_reply(500, str(exc))
        return super().respond(path, request_headers)

    def reply_for(self, url_path: str, rules: DemoRules, request_headers: Message) -> Reply:
        status = getattr(rules, "status", {})
        if url_path in status:
            return html_reply(status[url_path], url_path)
        return super().reply_for(url_path, rules, request_headers)


class SiteServer(DemoServer):
    """The demo's server over :class:`TestSite`, keeping a log of the requests it answered."""

    site_class = TestSite

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(root, host, port)
        self.log: list[LoggedRequest] = []  # list.append is atomic: handler threads share it safely

    def answered(self, method: str, path: str, status: int) -> None:
        self.log.append(LoggedRequest(method, path, status))

    @property
    def paths(self) -> list[str]:
        """Paths requested so far, query strings included, in arrival order."""
        return [entry.path for entry in self.log]


@contextmanager
def serve_site(root: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `root` in a background thread; yields the base URL ('http://127.0.0.1:PORT')."""
    with SiteServer(root, host, port) as server:
        yield server.base_url
