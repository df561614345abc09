"""/api/stats: counts of the matching articles per source, language and day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from archive.web.api.dependencies import CatalogueDep, from_query
from archive.web.api.models import Stats
from archive.web.api.params import FilterParams
from archive.query.facets import facet_counts

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats)
def stats(catalogue: CatalogueDep, params: Annotated[FilterParams, from_query(FilterParams)]) -> dict[str, Any]:
    """Counts of the matching articles per source, language and day, and per day and source."""
    return facet_counts(catalogue, params.article_query(limit=None))
