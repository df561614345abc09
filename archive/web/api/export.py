"""/api/export.jsonl and /api/export.csv: every matching article, streamed as it is read.

One endpoint in two formats. The parameters are checked before the first byte is sent, so
a bad one is still a 422; then rows go out as the database yields them, in bounded memory
whatever the size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from archive.web.api.dependencies import CatalogueDep, from_query
from archive.web.api.params import ExportParams
from archive.query.exports import csv_lines, jsonl_lines
from archive.query.search import iter_articles

router = APIRouter(tags=["export"])


def spreadsheet_csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> Iterator[str]:
    """CSV with a UTF-8 byte-order mark, which spreadsheets need to read Arabic and accents right."""
    yield "\ufeff"
    yield from csv_lines(rows, fields)


@dataclass(frozen=True)
class ExportFormat:
    """A format articles are exported in, at /export.<extension>."""

    extension: str
    media_type: str  # Starlette adds "; charset=utf-8" to text/*
    render: Callable[[Iterable[dict[str, Any]], tuple[str, ...]], Iterator[str]]
    description: str
    body: str  # what the document says the stream is: FastAPI cannot see what a generator yields


FORMATS = (
    ExportFormat("jsonl", "application/x-ndjson", jsonl_lines,
                 "Every matching article, one JSON object a line (streamed)",
                 "One JSON object a line: the Article fields asked for"),
    ExportFormat("csv", "text/csv", spreadsheet_csv,
                 "Every matching article as CSV (streamed); cells a spreadsheet would run as a formula start "
                 "with '", "A UTF-8 byte-order mark, a header line, a row per article"),
)


def _endpoint(form: ExportFormat) -> Callable[..., StreamingResponse]:
    """The endpoint of one format."""

    def export(catalogue: CatalogueDep,
               params: Annotated[ExportParams, from_query(ExportParams)]) -> StreamingResponse:
        query = params.article_query(limit=None)  # checked now, before the response starts
        rows = itertools.islice(iter_articles(catalogue, query), params.at_most)
        return StreamingResponse(form.render(rows, params.field_names()), media_type=form.media_type,
                                 headers={"Content-Disposition": f'attachment; filename="articles.{form.extension}"'})

    return export


for _format in FORMATS:
    router.add_api_route(
        f"/export.{_format.extension}", _endpoint(_format), methods=["GET"], name=f"export_{_format.extension}",
        description=_format.description, response_class=StreamingResponse,
        responses={200: {"description": _format.body, "content": {_format.media_type: {"schema": {"type": "string"}}}}},
    )
