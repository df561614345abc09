"""The ``/cdx`` endpoint: pywb's CDX server API over HTTP (:mod:`archive.warc.cdx_server` answers it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from archive.catalogue.store import Catalogue
from archive.warc.cdx_server import MEDIA_TYPES, CdxQuery, CdxServer
from archive.warc.index import CaptureIndex, CaptureQueryError


def cdx_route(catalogue: Catalogue) -> Route:
    """``GET /cdx?url=...``: CDX lines as pywb writes them; a bad parameter is a 400 saying which."""
    server = CdxServer(CaptureIndex(catalogue))

    def cdx(request: Request) -> Response:
        try:
            query = CdxQuery.from_params(request.query_params.getlist)
        except CaptureQueryError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        if query.count_pages:
            return JSONResponse(server.page_count(query))
        return StreamingResponse(server.lines(query), media_type=MEDIA_TYPES[query.output])

    return Route("/cdx", cdx, methods=["GET", "HEAD"], name="cdx")
