"""The app origin: JSON API (FastAPI, at /api), web page, and the replay frame at /web/.

``newsarchive serve`` runs it beside the replay origin's app
(:func:`archive.web.replay.create_replay_app`), on another port or host name
(:mod:`archive.web.isolation`): an article's page links to ``/web/<timestamp>/<url>``
here, a frame with the banner around the capture from the replay origin. Archived bytes are
never served from this origin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.warc.index import CaptureIndex
from archive.web.api import create_api
from archive.web.frame import frame_routes
from archive.web.isolation import APP_FRAME_ANCESTORS, Guard, Origins
from archive.web.memento import timemap_routes
from archive.web.ui import WEB, web_routes


def create_app(settings: Settings, origins: Origins | None = None) -> Starlette:
    """API at /api, web page at /, replay frames at /web/, TimeMaps: built once from the settings.

    ``origins`` defaults to both servers' default addresses.
    """
    origins = origins or Origins.default()
    catalogue = Catalogue(settings.database_url, read_only=True)  # they only read: never migrate, never write
    index = CaptureIndex(catalogue)
    routes: list[BaseRoute] = [
        Mount("/api", app=create_api(catalogue)),
        *frame_routes(index, origins, WEB / "templates"),
        *timemap_routes(index),
        *web_routes(catalogue),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        catalogue.close()

    guard = Middleware(Guard, token=settings.access_token, default_csp=APP_FRAME_ANCESTORS)
    app = Starlette(routes=routes, middleware=[guard], lifespan=lifespan)
    app.state.catalogue = catalogue
    return app
