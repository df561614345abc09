"""The app origin's replay frame: ``/web/<timestamp>/<url>`` as a page of the app with the banner, the capture in an iframe.

As pywb's framed replay: the top frame shows the capture time and the previous, next and
all captures, and loads ``/web/<timestamp>mp_/<url>`` from the replay origin in an iframe.
The frame is on the app origin, not the replay origin, by choice: a replayed script then
runs in another origin than its frame, so it cannot reach into the frame's document to
rewrite the banner, lift its own iframe's sandbox or navigate through the frame's links
(a same-origin frame, as pywb's, could do all three). The frame page itself runs one
script of ours (nonce'd) and frames nothing but the replay origin.

Every other ``/web/`` address (``id_``, ``im_``, lists of captures...) is replay-origin
content: the app redirects it there and never serves archived bytes itself.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from archive.warc.index import CaptureIndex
from archive.wayback import (
    PAGE,
    REPLAY_PREFIX,
    WaybackError,
    parse_replay_path,
    replay_url,
    timestamp14,
)
from archive.web.isolation import FRAME_SANDBOX, Origins
from archive.web.memento import base_of, choose, memento_headers


class FramePages:
    """The app's ``/web/`` route: frames for pages, redirects to the replay origin for the rest."""

    def __init__(self, index: CaptureIndex, origins: Origins, templates: Jinja2Templates) -> None:
        self.index = index
        self.origins = origins
        self.templates = templates

    def web(self, request: Request) -> Response:
        raw = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1").split("?", 1)[0]
        on_replay = self.origins.replay + raw + (f"?{request.url.query}" if request.url.query else "")
        try:
            target = parse_replay_path(raw[len(REPLAY_PREFIX):], request.url.query)
            if target.listing or target.modifier != PAGE:
                return RedirectResponse(on_replay, status_code=302)
            choice = choose(self.index, target, request)
        except WaybackError as exc:
            return self.templates.TemplateResponse(request, "error.html", {"message": str(exc)}, status_code=400)
        if choice.closest is None:  # the replay origin's "not archived" page offers the nearest URLs
            return RedirectResponse(on_replay, status_code=302)
        if choice.redirect is not None:
            return RedirectResponse(choice.redirect, status_code=302, headers=dict(choice.headers))
        closest = choice.closest
        capture = closest.capture
        timestamp = timestamp14(capture.timestamp)
        nonce = secrets.token_urlsafe(16)
        response = self.templates.TemplateResponse(request, "frame.html", {
            "capture": capture, "previous": closest.previous, "following": closest.following,
            "here": replay_url(timestamp, capture.url), "all": replay_url("*", capture.url),
            "content": self.origins.replay + replay_url(timestamp, capture.url, "mp_"),
            "raw": self.origins.replay + replay_url(timestamp, capture.url, "id_"),
            "replay_origin": self.origins.replay, "sandbox": FRAME_SANDBOX, "nonce": nonce,
            "replay_url": replay_url,
        })
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'self'; img-src 'self'; script-src 'nonce-{nonce}'; "
            f"frame-src {self.origins.replay}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        for name, value in memento_headers(base_of(request), capture.url, capture.timestamp):
            response.headers.append(name, value)
        return response


def frame_routes(index: CaptureIndex, origins: Origins, templates_dir: Path) -> list[Route]:
    """The app's ``/web/...`` route."""
    pages = FramePages(index, origins, Jinja2Templates(directory=templates_dir))
    return [Route(REPLAY_PREFIX + "{path:path}", pages.web, methods=["GET", "HEAD"], name="frame")]
