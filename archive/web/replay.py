"""Wayback-style replay of the archive: a Starlette (ASGI) app over the capture index and WARC files.

URL scheme (DESIGN.md; pywb's and the Wayback Machine's, so links and tools carry over; the
addresses are written and parsed by :mod:`archive.wayback`):

- ``/web/<timestamp><modifier>/<url>``: the capture of ``url`` closest to ``timestamp``
  (any prefix of YYYYMMDDhhmmss). Without a modifier it is a page: a request for another
  time is redirected to the capture's exact timestamp, and HTML gets a banner with the
  capture time and links to the previous and next captures. ``im_``, ``cs_``, ``js_``,
  ``oe_``, ``if_``, ``fr_`` and ``mp_`` (what :mod:`archive.web.rewrite` writes for embedded
  resources) are served as found, without a banner. HTML and CSS have their URLs rewritten
  into ``/web/``; redirects are replayed as redirects within the archive; a revisit record
  is served with the payload of the response it refers to; the archived status and
  content type are kept, other archived headers are renamed ``X-Archive-Orig-*`` so they
  cannot act on the browser.
- ``/web/<timestamp>id_/<url>``: the archived payload byte for byte, unrewritten (it is
  only decoded from its Content-Encoding for a client that does not accept that encoding).
- ``/web/<url>``: redirects to the latest capture. ``/web/*/<url>``: every capture of a URL;
  ``/web/*/<prefix>*``: of every URL under a prefix.
- ``/cdx?url=...``: pywb's CDX server API (``matchType``, ``output=json``, ``limit``,
  ``from``, ``to``, ``sort=reverse``, ``fl``).

Nothing is ever fetched from the live web: a URL not in the archive gets a 404 page with
the nearest archived URLs, and every response carries a Content-Security-Policy that
confines the page to the replay server's origin, so a script or a URL the rewriter missed
cannot reach the original host either.

Lookups go through the catalogue's captures table (:class:`archive.warc.index.CaptureIndex`),
then one seek into one WARC file per record. Endpoints are synchronous: Starlette runs
them in its thread pool, where blocking database and file reads belong.
"""

from __future__ import annotations

import html
import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import brotli
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from archive.catalogue.models import Capture
from archive.catalogue.store import Catalogue
from archive.warc.index import (
    MATCH_TYPES,
    CaptureIndex,
    CaptureQueryError,
    Closest,
    capture_info,
    cdx_fields,
    cdxj_line,
)
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
    parse_timestamp,
    replay_url,
    timestamp14,
)
from archive.extract.decoding import decode_document, encode_document
from archive.web.content_coding import accepts_encoding, decode_content
from archive.web.rewrite import (
    CSS_TYPES,
    HTML_TYPES,
    UrlRewriter,
    resolve_url,
    rewrite_css,
    rewrite_html,
)

# default-src covers scripts, styles, images, fonts, frames, fetch/XHR/WebSocket, workers
# and media: everything a page loads may come from the replay server, inline or data:,
# and from nowhere else. Forms may only post back to it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'; base-uri 'self'"
)
KEPT_HEADERS = frozenset({"content-type", "content-language", "content-disposition", "content-range"})
ORIGINAL_HEADER_PREFIX = "X-Archive-Orig-"  # pywb's name for archived headers that must not act
LISTING_LIMIT = 5000  # captures on one /web/*/ page; the CDX API pages through more
NEARBY_LIMIT = 10  # archived URLs a "not archived" page offers instead


class Replayer:
    """The replay endpoints over one catalogue and WARC directory."""

    def __init__(self, catalogue: Catalogue, warc_dir: Path) -> None:
        self.index = CaptureIndex(catalogue)
        self.warc_dir = Path(warc_dir)

    # --- /web/ -------------------------------------------------------------------------
    def web(self, request: Request) -> Response:
        """Every /web/ path: a capture, the latest capture, or a list of captures."""
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0][len(REPLAY_PREFIX):]
        try:
            target = parse_replay_path(path, request.url.query)
            if target.listing:
                return self._listing(target)
            moment = parse_timestamp(target.timestamp) if target.timestamp else datetime(9999, 12, 31)
        except (WaybackError, CaptureQueryError) as exc:
            return _page(400, "Not a replay address", f"<p>{_text(str(exc))}</p>")
        closest = self.index.closest(target.url, moment)
        if closest is None:
            return self._not_archived(target.url)
        capture = closest.capture
        timestamp = timestamp14(capture.timestamp)
        if target.modifier == PAGE and target.timestamp != timestamp:
            return _redirect(replay_url(timestamp, capture.url, target.modifier))
        try:  # an embed keeps the page's timestamp, so what it loads in turn is chosen for the page's time
            return self._replay(request, closest, target.modifier, target.timestamp or timestamp)
        except (OSError, WarcFormatError, MissingOriginalError) as exc:
            return _page(502, "Archived record unreadable",
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
        headers = replay_headers(record.http_headers, capture.url, timestamp, modifier, capture.timestamp)
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
            banner = _banner(closest, timestamp) if modifier == PAGE else ""
            text = rewrite_html(text, rewriter, banner)
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
        return _page(200, "Captures", body)

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
        return _page(404, "Not in the archive", body)

    # --- /cdx ---------------------------------------------------------------------------
    def cdx(self, request: Request) -> Response:
        """pywb's CDX server API over the captures table: JSON lines, or CDXJ lines."""
        params = request.query_params
        url = params.get("url", "")
        try:
            if not url:
                raise CaptureQueryError("the url parameter is required: /cdx?url=http://example.com/&output=json")
            match_type = params.get("matchType") or ("prefix" if url.endswith("*") else "exact")
            if match_type not in MATCH_TYPES:
                raise CaptureQueryError(f"matchType {match_type!r} is not one of {', '.join(MATCH_TYPES)}")
            limit = _limit(params.get("limit"))
            since = parse_timestamp(params["from"]) if params.get("from") else None
            until = parse_timestamp(params["to"], pad_up=True) if params.get("to") else None
            fields = [f for f in params.get("fl", "").split(",") if f]
        except (CaptureQueryError, WaybackError) as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        captures = self.index.query(url.rstrip("*") or url, match_type, since=since, until=until, limit=limit,
                                    reverse=params.get("sort") == "reverse")
        if params.get("output") == "json":
            return StreamingResponse(_json_lines(captures, fields), media_type="application/x-ndjson")
        return StreamingResponse((cdxj_line(capture_info(c)) for c in captures), media_type="text/plain")


class MissingOriginalError(LookupError):
    """A revisit record whose original response is not in the index."""


def _json_lines(captures: Iterator[Capture], fields: list[str]) -> Iterator[str]:
    for capture in captures:
        entry = cdx_fields(capture_info(capture))
        if fields:
            entry = {name: entry[name] for name in fields if name in entry}
        yield json.dumps(entry) + "\n"


def _limit(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise CaptureQueryError(f"limit {value!r} must be a whole number of captures")
    return int(value)


def replay_headers(http_headers: tuple[tuple[str, str], ...], url: str, timestamp: str, modifier: str,
                   captured: datetime) -> list[tuple[str, str]]:
    """The headers a replayed response carries, from the archived ones.

    Content-Type (and language, disposition, range) are kept; Location is rewritten into
    the archive; Content-Encoding is decided by the caller; everything else is renamed
    ``X-Archive-Orig-*`` as pywb does, so archived cookies, caching, HSTS or CSP headers
    cannot act on the browser. Memento headers (RFC 7089) and the replay CSP are added.
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
    headers += [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Memento-Datetime", format_datetime(captured.replace(tzinfo=UTC, microsecond=0), usegmt=True)),
        ("Link", f'<{url}>; rel="original"'),
    ]
    return headers


# --- pages ---------------------------------------------------------------------------------
_BANNER_STYLE = ("all:initial;display:block;box-sizing:border-box;width:100%;margin:0;padding:6px 12px;"
                 "background:#1f2328;color:#f0f0f0;font:13px/1.5 system-ui,sans-serif;text-align:left;"
                 "border-bottom:3px solid #b5472e")
_BANNER_LINK = "all:initial;font:inherit;color:#9cd2ff;text-decoration:underline;cursor:pointer"
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


def _banner(closest: Closest, timestamp: str) -> str:
    """The capture's time and its neighbours, in ASCII-only markup that is valid XHTML too."""
    capture, previous, following = closest.capture, closest.previous, closest.following
    links = [f'<a href="{_text(replay_url("*", capture.url))}" style="{_BANNER_LINK}">all captures</a>']
    if previous is not None:
        links.insert(0, f'<a href="{_text(replay_url(previous.timestamp, previous.url))}" '
                        f'style="{_BANNER_LINK}">&#8249; previous ({_human(previous.timestamp)})</a>')
    if following is not None:
        links.append(f'<a href="{_text(replay_url(following.timestamp, following.url))}" '
                     f'style="{_BANNER_LINK}">next ({_human(following.timestamp)}) &#8250;</a>')
    return (
        f'<div id="newsarchive-banner" dir="ltr" lang="en" style="{_BANNER_STYLE}">'
        f'<strong style="all:initial;font:inherit;font-weight:bold;color:inherit">Archived</strong> '
        f'<time datetime="{capture.timestamp.isoformat()}Z" style="all:initial;font:inherit;color:inherit">'
        f'{_human(capture.timestamp)}</time> &#183; <span style="all:initial;font:inherit;color:#bbb">'
        f"{_text(capture.url)}</span> &#183; {' &#183; '.join(links)}</div>"
        f"<script>{_LINK_GUARD.replace('TIMESTAMP', timestamp)}</script>"
    )


def _page(status: int, title: str, body: str) -> Response:
    """A small HTML page of the replay server itself (lists, errors), under the same CSP."""
    document = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_text(title)}</title>'
                f"<style>{_PAGE_STYLE}</style></head><body><h1>{_text(title)}</h1>{body}</body></html>")
    return Response(document, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def _redirect(location: str) -> Response:
    response = RedirectResponse(location, status_code=302)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _text(value: str) -> str:
    """Text for HTML markup: escaped, non-ASCII as character references."""
    return html.escape(value).encode("ascii", "xmlcharrefreplace").decode("ascii")


def _human(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# --- the app -------------------------------------------------------------------------------
def replay_routes(catalogue: Catalogue, warc_dir: Path) -> list[Route]:
    """The replay routes (``/web/...`` and ``/cdx``), to mount at the root of a larger app."""
    replayer = Replayer(catalogue, warc_dir)
    return [
        Route(REPLAY_PREFIX + "{path:path}", replayer.web, methods=["GET", "HEAD"], name="replay"),
        Route("/cdx", replayer.cdx, methods=["GET", "HEAD"], name="cdx"),
    ]


def create_replay_app(catalogue: Catalogue, warc_dir: Path) -> Starlette:
    """A replay-only ASGI app: what ``newsarchive replay`` serves when no web UI is installed, and tests use."""
    return Starlette(routes=replay_routes(catalogue, warc_dir))
