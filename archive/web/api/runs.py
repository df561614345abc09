"""/api/runs: crawl runs, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from archive.web.api.dependencies import CatalogueDep, from_query
from archive.web.api.models import RunList
from archive.web.api.params import RunParams
from archive.query.runs import list_runs

router = APIRouter(tags=["runs"])


@router.get("/runs", response_model=RunList)
def runs(catalogue: CatalogueDep, params: Annotated[RunParams, from_query(RunParams)]) -> dict[str, Any]:
    """Crawl runs, newest first."""
    return {"runs": list_runs(catalogue, params.source, params.limit)}
