"""Wayback-style replay of the archive: a Starlette (ASGI) app over the capture index and WARC files.

URL scheme (DESIGN.md; pywb's and the Wayback Machine's, so links and tools carry over; the
addresses are written and parsed by :mod:`archive.wayback`):

This is the replay origin (:mod:`archive.web.isolation`): it serves archived documents
and nothing of the app's. The banner is not here but in the app's top frame
(:mod:`archive.web.frame`), which shows ``/web/<timestamp>mp_/<url>`` of this origin in a
sandboxed iframe.

- ``/web/<timestamp><modifier>/<url>``: the capture of ``url`` closest to ``timestamp``
  (any prefix of YYYYMMDDhhmmss). Without a modifier it is a page: a request for another
  time is redirected to the capture's exact timestamp (the TimeGate, :mod:`archive.web.memento`,
  also honours ``Accept-Datetime``), and a browser opening it as its top document is sent to
  the app's frame of it. ``mp_`` is the page's document for the frame; ``im_``, ``cs_``,
  ``js_``, ``oe_``, ``if_`` and ``fr_`` (what :mod:`archive.web.rewrite` writes for embedded
  resources) are served as found. HTML and CSS have their URLs rewritten
  into ``/web/``; redirects are replayed as redirects within the archive; a revisit record
  is served with the payload of the response it refers to; the archived status and
  content type are kept, other archived headers are renamed ``X-Archive-Orig-*`` so they
  cannot act on the browser.
- ``/web/<timestamp>id_/<url>``: the archived payload byte for byte, unrewritten (it is
  only decoded from its Content-Encoding for a client that does not accept that encoding).
- ``/web/<url>``: redirects to the latest capture. ``/web/*/<url>``: every capture of a URL;
  ``/web/*/<prefix>*``: of every URL under a prefix.
- ``/cdx?url=...``: pywb's CDX server API (:mod:`archive.web.cdx`).

Nothing is ever fetched from the live web: a URL not in the archive gets a 404 page with
the nearest archived URLs, and every response carries a Content-Security-Policy that
confines the page to the replay origin (:meth:`Origins.replay_csp`), so a script or a URL
the rewriter missed cannot reach the original host, nor the app origin, either.

Lookups go through the catalogue's captures table (:class:`archive.warc.index.CaptureIndex`),
then one seek into one WARC file per record. Endpoints are synchronous: Starlette runs
them in its thread pool, where blocking database and file reads belong.
"""

from __future__ import annotations

import html
import json
import zlib
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import brotli
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from archive.catalogue.models import Capture
from archive.catalogue.store import Catalogue
from archive.warc.index import CaptureIndex, CaptureQueryError, Closest
from archive.warc.files import resolve
from archive.warc.reader import read_capture
from archive.warc.records import StoredRecord, WarcFormatError
from archive.wayback import (
    PAGE,
    RAW,
    REPLAY_PREFIX,
    ReplayTarget,
    WaybackError,
    parse_replay_path,
    replay_url,
    timestamp14,
)
from archive.extract.decoding import decode_document, encode_document
from archive.web.cdx import cdx_route
from archive.web.content_coding import accepts_encoding, decode_content
from archive.web.isolation import Guard, Origins
from archive.web.memento import base_of, choose, memento_headers, timemap_routes
from archive.web.rewrite import (
    CSS_TYPES,
    HTML_TYPES,
    UrlRewriter,
    resolve_url,
    rewrite_css,
    rewrite_html,
)

KEPT_HEADERS = frozenset({"content-type", "content-language", "content-disposition", "content-range"})
ORIGINAL_HEADER_PREFIX = "X-Archive-Orig-"  # pywb's name for archived headers that must not act
LISTING_LIMIT = 5000  # captures on one /web/*/ page; the CDX API pages through more
NEARBY_LIMIT = 10  # archived URLs a "not archived" page offers instead


class Replayer:
    """The replay endpoints over one catalogue and WARC directory, on the replay origin of ``origins``."""

    def __init__(self, catalogue: Catalogue, warc_dir: Path, origins: Origins) -> None:
        self.index = CaptureIndex(catalogue)
        self.warc_dir = Path(warc_dir)
        self.origins = origins
        self.csp = origins.replay_csp()

    # --- /web/ -------------------------------------------------------------------------
    def web(self, request: Request) -> Response:
        """Every /web/ path: a capture, the latest capture, or a list of captures."""
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0][len(REPLAY_PREFIX):]
        try:
            target = parse_replay_path(path, request.url.query)
            if target.listing:
                return self._listing(target)
            choice = choose(self.index, target, request)
        except (WaybackError, CaptureQueryError) as exc:
            return self._page(400, "Not a replay address", f"<p>{_text(str(exc))}</p>")
        closest = choice.closest
        if closest is None:
            return self._not_archived(target.url)
        capture = closest.capture
        timestamp = timestamp14(capture.timestamp)
        if (target.modifier == PAGE and self.origins.app is not None
                and request.headers.get("sec-fetch-dest") == "document"):
            # opened as the window's own document (a link of a listing, a bookmark): shown in the
            # app's frame instead, where its banner is and its sandbox holds
            return self._redirect(self.origins.app + replay_url(timestamp, capture.url))
        if choice.redirect is not None:
            return self._redirect(choice.redirect, choice.headers)
        try:  # an embed keeps the page's timestamp, so what it loads in turn is chosen for the page's time
            return self._replay(request, closest, target.modifier, target.timestamp or timestamp)
        except (OSError, WarcFormatError, MissingOriginalError) as exc:
            return self._page(502, "Archived record unreadable",
                         f"<p>The capture of <code>{_text(capture.url)}</code> at {timestamp} could not be read: "
                         f"{_text(str(exc))}</p>")

    def _replay(self, request: Request, closest: Closest, modifier: str, timestamp: str) -> Response:
        """The archived response, rewritten for replay at ``timestamp`` unless raw (``id_``)."""
        capture = closest.capture
        record = self._read(capture)
        payload = record.payload
        if capture.record_type == "revisit":
            original = self.index.original(capture)
            if original is None:
                raise MissingOriginalError(
                    f"the revisit record names payload {capture.payload_digest} of {capture.refers_to_url}, "
                    "which no response record in the index holds: index the WARC file holding it "
                    "(newsarchive index)")
            payload = self._read(original).payload
        headers = replay_headers(record.http_headers, capture.url, timestamp, modifier)
        headers += [("Content-Security-Policy", self.origins.replay_csp(raw=modifier == RAW)),
                    *memento_headers(base_of(request), capture.url, capture.timestamp)]
        content_type = record.http_header("Content-Type")
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        encoding = (record.http_header("Content-Encoding") or "").strip().lower() or None
        if encoding == "identity":
            encoding = None
        rewritable = media_type in HTML_TYPES or media_type in CSS_TYPES
        try:
            if modifier == RAW:
                if encoding and not accepts_encoding(request.headers.get("accept-encoding", ""), encoding):
                    payload, encoding = decode_content(payload, encoding), None
            elif rewritable:
                payload, encoding = decode_content(payload, encoding), None
                payload = self._rewrite(closest, timestamp, payload, content_type, media_type, modifier)
        except (ValueError, OSError, EOFError, zlib.error, brotli.error):
            pass  # a body that does not decode is served as archived: the browser judges it
        if encoding:
            headers.append(("Content-Encoding", encoding))
        status = record.status or 200
        response = Response(payload if status not in (204, 304) else b"", status_code=status)
        response.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
        return response

    def _rewrite(self, closest: Closest, timestamp: str, body: bytes, content_type: str | None,
                 media_type: str, modifier: str) -> bytes:
        is_html = media_type in HTML_TYPES
        text, charset = decode_document(body, content_type, is_html=is_html)
        rewriter = UrlRewriter(timestamp, closest.capture.url)
        if is_html:
            script = self._document_script(closest, timestamp) if modifier in (PAGE, "mp_") else ""
            text = rewrite_html(text, rewriter, script)
        else:
            text = rewrite_css(text, rewriter)
        return encode_document(text, charset)

    def _read(self, capture: Capture) -> StoredRecord:
        name = capture.warc_file
        try:
            path = resolve(self.warc_dir, name)  # finished, or still being written
        except ValueError as exc:
            raise WarcFormatError(f"capture {capture.id}: {exc}") from None
        if path is None:
            raise FileNotFoundError(f"WARC file {name} is not in {self.warc_dir}: restore it, or rebuild the "
                                    "index from the files present with `newsarchive index`")
        return read_capture(path, capture.warc_offset)

    def _listing(self, target: ReplayTarget) -> Response:
        match_type = "prefix" if target.prefix else "exact"
        captures = self.index.query(target.url, match_type, limit=LISTING_LIMIT + 1)
        rows = list(captures)
        if not rows:
            return self._not_archived(target.url)
        more = len(rows) > LISTING_LIMIT
        lines = []
        for capture in rows[:LISTING_LIMIT]:
            kind = " (revisit)" if capture.record_type == "revisit" else ""
            url_cell = f"<td>{_text(capture.url)}</td>" if target.prefix else ""
            lines.append(
                f'<tr><td><a href="{_text(replay_url(capture.timestamp, capture.url))}">'
                f"{_human(capture.timestamp)}</a></td>"
                f"{url_cell}<td>{capture.status}</td><td>{_text(capture.mime or '')}{kind}</td>"
                f'<td style="text-align:right">{capture.warc_length:,}</td></tr>'
            )
        what = f"URLs under {_text(target.url)}" if target.prefix else _text(target.url)
        url_head = "<th>URL</th>" if target.prefix else ""
        cdx = f"/cdx?url={quote(target.url, safe='')}&matchType={match_type}&output=json"
        body = (
            f"<p>{len(rows[:LISTING_LIMIT])} capture(s) of {what}"
            f"{' (first ' + str(LISTING_LIMIT) + ')' if more else ''}. "
            f'As CDX: <a href="{_text(cdx)}">JSON lines</a>.</p>'
            f"<table><thead><tr><th>Captured (UTC)</th>{url_head}<th>Status</th><th>Type</th>"
            f"<th>WARC record bytes</th></tr></thead><tbody>{''.join(lines)}</tbody></table>"
        )
        return self._page(200, "Captures", body)

    def _not_archived(self, url: str) -> Response:
        nearby = self.index.nearby(url, NEARBY_LIMIT)
        items = "".join(
            f'<li><a href="{_text(replay_url(when, other))}">{_text(other)}</a> '
            f"({_human(when)})</li>" for other, when in nearby
        )
        suggestions = (f"<p>Nearest archived URLs of the same site:</p><ul>{items}</ul>" if items
                       else "<p>Nothing of this site is archived.</p>")
        site = replay_url("*", resolve_url(url, "/") or url) + "*"
        body = (f"<p><code>{_text(url)}</code> is not in the archive, and replay never fetches from the "
                f"live web.</p>{suggestions}"
                f'<p><a href="{_text(site)}">Every archived URL of this site</a></p>')
        return self._page(404, "Not in the archive", body)

    def _document_script(self, closest: Closest, timestamp: str) -> str:
        """What opens a replayed page's body: the link guard, and telling the app's frame what it shows.

        The frame (another origin) cannot read the iframe's address, so a page the reader
        navigated to inside it says which capture it is, and the frame follows with its banner.
        """
        script = _LINK_GUARD.replace("TIMESTAMP", timestamp)
        shown = replay_url(timestamp14(closest.capture.timestamp), closest.capture.url)
        for app in self.origins.app_spellings:  # delivered only if the frame is at that origin
            script += (f"if(window.parent!==window){{window.parent.postMessage({{newsarchive:{_js(shown)}}},"
                       f"{_js(app)})}}")
        return f"<script>{script}</script>"

    def _page(self, status: int, title: str, body: str) -> Response:
        """A small HTML page of the replay origin itself (lists, errors), under the replay CSP."""
        document = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_text(title)}</title>'
                    f"<style>{_PAGE_STYLE}</style></head><body><h1>{_text(title)}</h1>{body}</body></html>")
        return Response(document, status_code=status, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": self.csp})

    def _redirect(self, location: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        response = RedirectResponse(location, status_code=302)
        response.headers["Content-Security-Policy"] = self.csp
        for name, value in headers:
            response.headers.append(name, value)
        return response


class MissingOriginalError(LookupError):
    """A revisit record whose original response is not in the index."""


def replay_headers(http_headers: tuple[tuple[str, str], ...], url: str, timestamp: str,
                   modifier: str) -> list[tuple[str, str]]:
    """The headers a replayed response carries, from the archived ones.

    Content-Type (and language, disposition, range) are kept; Location is rewritten into
    the archive; Content-Encoding is decided by the caller; everything else is renamed
    ``X-Archive-Orig-*`` as pywb does, so archived cookies, caching, HSTS or CSP headers
    cannot act on the browser. The caller adds the replay CSP and the Memento headers.
    """
    headers: list[tuple[str, str]] = []
    for name, value in http_headers:
        lower = name.lower()
        if lower in KEPT_HEADERS:
            headers.append((name, value))
        elif lower == "location" and (target := resolve_url(url, value)) is not None:
            headers.append(("Location", replay_url(timestamp, target, modifier)))
        elif lower == "content-encoding":
            continue
        elif lower.startswith(ORIGINAL_HEADER_PREFIX.lower()):
            headers.append((name, value))
        else:
            headers.append((ORIGINAL_HEADER_PREFIX + name, value))
    return headers


# --- pages ---------------------------------------------------------------------------------
# A link a script built, or the rewriter could not see, still leads into the archive when
# clicked (CSP cannot stop navigations). Written without '&' and '<' to stay valid XHTML.
_LINK_GUARD = (
    "document.addEventListener('click',function(e){var a=e.target;"
    "while(a){if(a.href){break}a=a.parentElement}if(!a){return}"
    "var u=new URL(a.href,document.baseURI);"
    "if(u.origin!==location.origin){if(/^https?:$/.test(u.protocol)){"
    "a.href='" + REPLAY_PREFIX + "TIMESTAMP/'+u.href}}},true);"
)
_PAGE_STYLE = ("body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1f2328}"
               "table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #ddd;text-align:left}"
               "code{word-break:break-all}")


def _js(value: str) -> str:
    """A JavaScript string literal in ASCII with no '<', '>' or '&' (valid inside a script of HTML or XHTML)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _text(value: str) -> str:
    """Text for HTML markup: escaped, non-ASCII as character references."""
    return html.escape(value).encode("ascii", "xmlcharrefreplace").decode("ascii")


def _human(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# --- the app -------------------------------------------------------------------------------
def replay_routes(catalogue: Catalogue, warc_dir: Path, origins: Origins) -> list[Route]:
    """The replay routes: ``/web/...``, ``/cdx`` and the TimeMaps."""
    replayer = Replayer(catalogue, warc_dir, origins)
    return [
        Route(REPLAY_PREFIX + "{path:path}", replayer.web, methods=["GET", "HEAD"], name="replay"),
        cdx_route(catalogue),
        *timemap_routes(replayer.index),
    ]


def create_replay_app(catalogue: Catalogue, warc_dir: Path, origins: Origins | None = None, *,
                      token: str | None = None) -> Starlette:
    """The replay origin's app (``newsarchive replay``, and ``serve``'s second server): replay and nothing else.

    No /api, no web page: a replayed script that fetches them here gets a 404. ``origins``
    defaults to both servers' default addresses; ``token``: every request must carry it.
    """
    origins = origins or Origins.default()
    guard = Middleware(Guard, token=token, default_csp=origins.replay_csp())
    return Starlette(routes=replay_routes(catalogue, warc_dir, origins), middleware=[guard])
