"""/api/sources: every source, its article count and latest run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from archive.web.api.dependencies import CatalogueDep, from_query
from archive.web.api.models import SourceList
from archive.web.api.params import NoParams
from archive.query.runs import list_sources

router = APIRouter(tags=["sources"])


@router.get("/sources", response_model=SourceList)
def sources(catalogue: CatalogueDep, _params: Annotated[NoParams, from_query(NoParams)]) -> dict[str, Any]:
    """Sources with their article counts and latest run."""
    return {"sources": list_sources(catalogue)}
