"""The API app: its routers, its error contract and the OpenAPI document FastAPI writes from them.

Every refusal has one body, ``{"error": "...", "parameter": "..."}``: 422 for a parameter
that cannot be used (FastAPI's validation errors, and ``ParameterError`` for the rules of
``archive.query.search``), 404 and 405 with ``parameter`` null. The document is served at
``/openapi.json`` of wherever the app is mounted (``/api``), which it names as its server.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from archive.web.api import articles, export, runs, sources, stats
from archive.web.api.dependencies import no_store
from archive.web.api.models import Error
from archive.web.api.params import ParameterError, parameter_error
from archive.catalogue.store import Catalogue

DESCRIPTION = ("The article catalogue of a news archive: search, articles, sources, crawl runs, counts and "
               "exports. A parameter that cannot be used is answered 422, naming it.")


def _error(status: int, message: str, parameter: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's one error body."""
    return JSONResponse({"error": message, "parameter": parameter}, status_code=status, headers=headers)


def _parameter_error(_request: Request, exc: Exception) -> JSONResponse:
    """A rule of archive.query.search broken: 422 naming the parameter."""
    assert isinstance(exc, ParameterError)
    return _error(422, str(exc), exc.parameter)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors in the API's own body: the first one, by parameter."""
    assert isinstance(exc, RequestValidationError)
    # FastAPI's locations start with where the parameter is: ("query", "limit"), ("path", "id")
    error = parameter_error([error | {"loc": tuple(error["loc"])[1:]} for error in exc.errors()])
    return _error(422, str(error), error.parameter)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """404, 405...: the same body, without a parameter."""
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, str(exc.detail), headers=exc.headers)


def create_api(catalogue: Catalogue) -> FastAPI:
    """The JSON API over ``catalogue``, to mount at ``/api``."""
    api = FastAPI(
        title="newsarchive", version="1", description=DESCRIPTION,
        openapi_url="/openapi.json", docs_url=None, redoc_url=None,  # their pages load scripts from a CDN
        dependencies=[Depends(no_store)],
        responses={422: {"model": Error, "description": "A parameter cannot be used; the message says which and why"}},
        exception_handlers={ParameterError: _parameter_error, RequestValidationError: _validation_error,
                            HTTPException: _http_error},
    )
    api.state.catalogue = catalogue
    for resource in (articles, sources, runs, stats, export):
        api.include_router(resource.router)
    return api
