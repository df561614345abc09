"""The one web application: JSON API (FastAPI, at /api), web page and replay.

``newsarchive serve`` and ``newsarchive replay`` both run ``create_app``, so an article's
page and its archived copy are served together and link to each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from archive.web.api import create_api
from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.web.replay import replay_routes
from archive.web.ui import web_routes


def create_app(settings: Settings) -> Starlette:
    """API at /api, replay at /web and /cdx, web page at /: built once from the settings."""
    catalogue = Catalogue(settings.database_url, read_only=True)  # they only read: never migrate, never write
    routes: list[BaseRoute] = [
        Mount("/api", app=create_api(catalogue)),
        *replay_routes(catalogue, settings.warc_dir),
        *web_routes(catalogue),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        catalogue.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.catalogue = catalogue
    return app
