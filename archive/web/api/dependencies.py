"""What the routers get from FastAPI besides their parameters: the catalogue, and each parameter
model read from the query string.

No ``from __future__ import annotations`` here: ``from_query`` builds a dependency whose
signature names its model, which FastAPI must be able to evaluate.
"""

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response

from archive.web.api.params import Parameters, check_given_once
from archive.catalogue.store import Catalogue

P = TypeVar("P", bound=Parameters)


def catalogue(request: Request) -> Catalogue:
    """The catalogue the API was built on (``create_api``)."""
    return request.app.state.catalogue


CatalogueDep = Annotated[Catalogue, Depends(catalogue)]


def from_query(model: type[P]) -> Any:
    """The parameters of ``model`` from the query string: ``Annotated[Model, from_query(Model)]``.

    FastAPI validates them and documents them; a parameter given twice is refused here, as
    FastAPI would otherwise keep the last value of one that is not repeatable.
    """

    def parameters(request: Request, values: Annotated[model, Query()]) -> P:  # type: ignore[valid-type]
        check_given_once(model, (key for key, _ in request.query_params.multi_items()))
        return values

    return Depends(parameters)


def no_store(response: Response) -> None:
    """Answers change as crawls add articles: not for caches to keep."""
    response.headers["Cache-Control"] = "no-store"
