"""The JSON API over the catalogue (Starlette), described by its own OpenAPI document.

Every parameter is declared once, in ``PARAMS``: the same declaration validates requests
(a bad value is a 422 naming the parameter, never a 500) and writes the OpenAPI document
served at ``/api/openapi.json``. The web page parses its query string with the same
parameters, and both call ``archive.query.search`` like the CLI does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from archive.catalogue.store import Catalogue
from archive.query.exports import csv_lines, jsonl_lines
from archive.query.search import (
    ARTICLE_FIELDS,
    EXTRA_FIELDS,
    FIELDS,
    MAX_ID,
    MAX_LIMIT,
    ORDERS,
    SORTS,
    ArticleQuery,
    QueryError,
    check_fields,
    iter_articles,
    project,
    search_page,
)
from archive.query.articles import get_article
from archive.query.facets import facet_counts
from archive.query.runs import list_runs, list_sources

EXPORT_FIELDS = ARTICLE_FIELDS + EXTRA_FIELDS  # snippets belong to a page of results, not to data
MAX_TEXT = 1000  # characters of a search or a name: longer is a mistake or an attack
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # fromisoformat alone would take 20260101 and 2026-W01-1


class ParamError(ValueError):
    """A request parameter that cannot be used; answered 422 with the parameter's name."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    """One query-string parameter: its name, OpenAPI schema and the ArticleQuery field it fills."""

    name: str
    schema: dict[str, Any]
    description: str
    field: str | None = None
    many: bool = False  # repeatable: ?source=a&source=b

    def parse(self, raw: list[str]) -> Any:
        values = [self._value(item) for item in raw]
        if self.many:
            return tuple(values)
        if len(values) > 1:
            raise ParamError(self.name, f"{self.name} is given {len(values)} times; give it once")
        return values[0]

    def _value(self, raw: str) -> Any:
        kind = self.schema.get("type")
        if "\x00" in raw or len(raw) > MAX_TEXT:
            raise ParamError(self.name, f"{self.name} must be at most {MAX_TEXT} characters, without NUL")
        if "enum" in self.schema and raw not in self.schema["enum"]:
            raise ParamError(self.name, f"{self.name} must be one of {', '.join(self.schema['enum'])}, not {raw!r}")
        if self.schema.get("format") == "date":
            try:
                if not ISO_DATE.fullmatch(raw):
                    raise ValueError(raw)
                return date.fromisoformat(raw)
            except ValueError:
                raise ParamError(self.name, f"{self.name} must be a date as YYYY-MM-DD, not {raw!r}") from None
        if kind == "boolean":
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0", "on", "yes", "no"):
                raise ParamError(self.name, f"{self.name} must be true or false, not {raw!r}")
            return lowered in ("true", "1", "on", "yes")
        if kind == "integer":
            low, high = self.schema["minimum"], self.schema["maximum"]
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise ParamError(self.name, f"{self.name} must be a whole number from {low} to {high}, not {raw!r}")
            return int(raw)
        return raw


_TEXT = {"type": "string", "maxLength": MAX_TEXT}
FILTERS = (
    Param("q", _TEXT, 'Search: words (all must match), "a phrase", OR, -excluded, prefix*. '
          "Case, accents and Arabic diacritics are ignored.", "text"),
    Param("source", _TEXT, "Only these sources (repeat the parameter for several).", "source", many=True),
    Param("lang", _TEXT, "Only these languages, ISO 639-1 (repeatable). Searches also match "
          "the words' inflections in these languages.", "language", many=True),
    Param("since", {"type": "string", "format": "date"}, "Published on or after this day.", "since"),
    Param("until", {"type": "string", "format": "date"}, "Published on or before this day.", "until"),
    Param("seen_since", {"type": "string", "format": "date"}, "First archived on or after this day (UTC).",
          "seen_since"),
    Param("seen_until", {"type": "string", "format": "date"}, "First archived on or before this day (UTC).",
          "seen_until"),
    Param("author", _TEXT, "Part of an author's name, any case.", "author"),
    Param("has_duplicates", {"type": "boolean"}, "true: only articles copied elsewhere; false: only the others.",
          "has_duplicates"),
    Param("unique", {"type": "boolean"}, "Hide duplicates (articles with duplicate_of set).", "unique"),
)
SORTING = (
    Param("sort", {"type": "string", "enum": list(SORTS)},
          "relevance (the default with q), published (the default without) or first_seen.", "sort"),
    Param("order", {"type": "string", "enum": list(ORDERS)},
          "desc (newest first, the default) or asc; relevance is always best first.", "order"),
)
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Articles per page.", "limit")
CURSOR = Param("cursor", _TEXT,
               "next_cursor of the previous page: keyset pagination, no row lost or repeated.", "cursor")


def _fields_param(allowed: tuple[str, ...]) -> Param:
    return Param("fields", _TEXT,
                 f"Comma-separated fields to return (default: all): {', '.join(allowed)}.")


ARTICLE_PARAMS = (*FILTERS, *SORTING, LIMIT, CURSOR, _fields_param(FIELDS))
EXPORT_PARAMS = (*FILTERS, *SORTING,
                 Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ID},  # there are no more
                       "At most this many articles (default: all)."),
                 _fields_param(EXPORT_FIELDS))
RUN_PARAMS = (
    Param("source", _TEXT, "Only the runs of this source."),
              Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "How many runs (default 20)."),
)
PARAM_OF_FIELD = {param.field: param.name for param in ARTICLE_PARAMS if param.field}


def parse_params(query: QueryParams, params: Iterable[Param], *, blank_is_absent: bool = False) -> dict[str, Any]:
    """Values of the declared parameters present; ``blank_is_absent`` for forms, which send empty fields."""
    declared = {param.name: param for param in params}
    unknown = sorted(set(query.keys()) - set(declared))
    if unknown:
        raise ParamError(unknown[0], f"unknown parameter {unknown[0]!r}; parameters are: {', '.join(declared)}")
    values = {}
    for name, param in declared.items():
        raw = [item for item in query.getlist(name) if item != "" or not blank_is_absent]
        if raw:
            values[name] = param.parse(raw)
    return values


def article_query(values: Mapping[str, Any], params: Iterable[Param], **defaults: Any) -> ArticleQuery:
    """The ArticleQuery of parsed parameters; its validation errors name the parameter."""
    arguments = dict(defaults)
    for param in params:
        if param.field and param.name in values:
            arguments[param.field] = values[param.name]
    try:
        return ArticleQuery(**arguments)
    except QueryError as exc:
        raise ParamError(PARAM_OF_FIELD.get(exc.field, exc.field), str(exc)) from None


def field_list(values: Mapping[str, Any], allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The ``fields`` parameter as names, checked against ``allowed``."""
    if "fields" not in values:
        return None
    names = [name.strip() for name in values["fields"].split(",") if name.strip()]
    try:
        return check_fields(names, allowed) or None
    except QueryError as exc:
        raise ParamError("fields", str(exc)) from None


# --- endpoints ------------------------------------------------------------------------------
def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "parameter": param}, status_code=status)


def _endpoint(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Parameter errors become a 422 that names the parameter."""

    def endpoint(request: Request) -> Response:
        try:
            return handler(request)
        except ParamError as exc:
            return _error(422, str(exc), exc.param)
        except QueryError as exc:
            return _error(422, str(exc), PARAM_OF_FIELD.get(exc.field, exc.field))

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _json(data: Any) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


def api_routes(catalogue: Catalogue) -> list[Route]:
    """The API's routes, to mount at ``/api``."""

    @_endpoint
    def articles(request: Request) -> Response:
        values = parse_params(request.query_params, ARTICLE_PARAMS)
        fields = field_list(values, FIELDS)
        page = search_page(catalogue, article_query(values, ARTICLE_PARAMS))
        next_url = None
        if page.next_cursor:
            next_url = str(request.url.include_query_params(cursor=page.next_cursor))
        return _json({"articles": [project(a, fields) for a in page.articles],
                      "next_cursor": page.next_cursor, "next": next_url})

    @_endpoint
    def article(request: Request) -> Response:
        parse_params(request.query_params, ())
        raw = request.path_params["id"]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            raise ParamError("id", f"id must be a whole number from 1 to {MAX_ID}, not {raw!r}")
        found = get_article(catalogue, int(raw))
        if found is None:
            return _error(404, f"no article {raw}")
        return _json(found)

    @_endpoint
    def sources(request: Request) -> Response:
        parse_params(request.query_params, ())
        return _json({"sources": list_sources(catalogue)})

    @_endpoint
    def runs(request: Request) -> Response:
        values = parse_params(request.query_params, RUN_PARAMS)
        return _json({"runs": list_runs(catalogue, values.get("source"), values.get("limit", 20))})

    @_endpoint
    def stats(request: Request) -> Response:
        values = parse_params(request.query_params, FILTERS)
        return _json(facet_counts(catalogue, article_query(values, FILTERS, limit=None)))

    def export(request: Request, media_type: str, render: Callable[[Iterator[dict], tuple[str, ...]],
                                                                      Iterator[str]]) -> Response:
        values = parse_params(request.query_params, EXPORT_PARAMS)
        fields = field_list(values, EXPORT_FIELDS) or EXPORT_FIELDS
        query = article_query(values, EXPORT_PARAMS, limit=None)
        extension = media_type.split("/")[1].split(";")[0].replace("x-ndjson", "jsonl")
        rows = itertools.islice(iter_articles(catalogue, query), values.get("limit"))
        return StreamingResponse(
            render(rows, fields), media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="articles.{extension}"'},
        )

    @_endpoint
    def export_jsonl(request: Request) -> Response:
        return export(request, "application/x-ndjson", jsonl_lines)

    @_endpoint
    def export_csv(request: Request) -> Response:
        return export(request, "text/csv; charset=utf-8", spreadsheet_csv)

    def openapi(_request: Request) -> Response:
        return _json(OPENAPI)

    return [
        Route("/articles", articles),
        Route("/articles/{id}", article),
        Route("/sources", sources),
        Route("/runs", runs),
        Route("/stats", stats),
        Route("/export.jsonl", export_jsonl),
        Route("/export.csv", export_csv),
        Route("/openapi.json", openapi),
    ]


def spreadsheet_csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> Iterator[str]:
    """CSV with a UTF-8 byte-order mark, which spreadsheets need to read Arabic and accents right."""
    yield "\ufeff"
    yield from csv_lines(rows, fields)


# --- the OpenAPI document -------------------------------------------------------------------
def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return schema | {"nullable": True}


_STR, _INT = {"type": "string"}, {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
ARTICLE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": _INT, "url": _STR, "canonical_url": _STR, "source": _STR, "title": _nullable(_STR),
        "authors": {"type": "array", "items": _STR}, "published": _nullable({"type": "string", "format": "date"}),
        "language": _nullable(_STR), "sitename": _nullable(_STR), "text": _STR, "first_seen": _TIME,
        "last_seen": _TIME, "warc_file": _nullable(_STR), "warc_offset": _nullable(_INT), "content_hash": _STR,
        "duplicate_of": _nullable(_INT), "description": _nullable(_STR), "duplicate_kind": _nullable(_STR),
        "versions": _INT, "replay_url": _nullable(_STR),
        "title_snippet": {"type": "string", "description": "HTML: the title, searched words in <mark>"},
        "snippet": {"type": "string", "description": "HTML: a fragment of the text, searched words in <mark>"},
    },
}
_CAPTURE = {"type": "object", "required": ["id", "url", "timestamp", "replay_url"], "properties": {
    "id": _INT, "url": _STR, "timestamp": _TIME, "status": _INT, "record_type": _STR, "warc_file": _STR,
    "warc_offset": _INT, "warc_length": _INT, "payload_digest": _STR, "replay_url": _STR}}
_VERSION = {"type": "object", "required": ["version", "fetched", "text"], "properties": {
    "version": _INT, "title": _nullable(_STR), "fetched": _TIME, "content_hash": _STR, "text": _STR,
    "capture_id": _nullable(_INT)}}
_DUPLICATE = {"type": "object", "required": ["id", "url", "source"], "properties": {
    "id": _INT, "url": _STR, "source": _STR, "title": _nullable(_STR), "kind": _nullable(_STR)}}
_DETAIL_FIELDS = tuple(name for name in EXPORT_FIELDS if name != "versions")
ARTICLE_DETAIL_SCHEMA = {
    "type": "object",
    "required": [*_DETAIL_FIELDS, "urls", "versions", "captures", "duplicates"],
    "properties": {name: ARTICLE_SCHEMA["properties"][name] for name in _DETAIL_FIELDS} | {
        "urls": {"type": "array", "items": _STR},
        "versions": {"type": "array", "items": _VERSION},
        "captures": {"type": "array", "items": _CAPTURE},
        "duplicates": {"type": "array", "items": _DUPLICATE},
    },
}
_RUN = {"type": "object", "required": ["id", "source", "status", "started"], "properties": {
    "id": _INT, "source": _STR, "status": {"type": "string", "enum": ["running", "ok", "failed", "interrupted"]},
    "started": _TIME, "finished": _nullable(_TIME), "pages": _INT, "bytes": _INT, "articles_new": _INT,
    "articles_updated": _INT, "articles_duplicate": _INT, "errors": _INT,
    "error_kinds": {"type": "object", "additionalProperties": _INT}, "warc_files": {"type": "array", "items": _STR}}}
_COUNT = {"type": "object", "required": ["value", "count"], "properties": {"value": _STR, "count": _INT}}
_STATS = {"type": "object", "required": ["total", "undated", "sources", "languages", "days", "by_day_source"],
          "properties": {
              "total": _INT, "undated": _INT,
              "sources": {"type": "array", "items": _COUNT}, "languages": {"type": "array", "items": _COUNT},
              "days": {"type": "array", "items": {"type": "object", "required": ["day", "count"], "properties": {
                  "day": {"type": "string", "format": "date"}, "count": _INT}}},
              "by_day_source": {"type": "array", "items": {"type": "object", "properties": {
                  "day": {"type": "string", "format": "date"}, "source": _STR, "count": _INT}}}}}
_SOURCE = {"type": "object", "required": ["name", "articles"], "properties": {
    "name": _STR, "articles": _INT, "first_seen": _nullable(_TIME), "last_seen": _nullable(_TIME),
    "last_run": _nullable(_RUN)}}
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": _STR, "parameter": _nullable(_STR)}}


def _object(required: str, schema: dict[str, Any], **more: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [required], "properties": {required: schema, **more}}


def _operation(summary: str, params: Iterable[Param], content: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": [
            {"name": p.name, "in": "query", "required": False, "description": p.description,
             **({"schema": {"type": "array", "items": p.schema}, "style": "form", "explode": True}
                if p.many else {"schema": p.schema})}
            for p in params
        ],
        "responses": {
            "200": {"description": "OK", "content": content},
            "422": {"description": "A parameter cannot be used; the message says which and why",
                    "content": {"application/json": {"schema": _ERROR}}},
        },
    }


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "newsarchive", "version": "1",
             "description": "The article catalogue of a news archive: search, articles, sources, crawl runs, "
                            "counts and exports."},
    "paths": {
        "/api/articles": {"get": _operation(
            "Search and list articles, a page at a time", ARTICLE_PARAMS,
            _json_content(_object("articles", {"type": "array", "items": ARTICLE_SCHEMA},
                                  next_cursor=_nullable(_STR), next=_nullable(_STR))))},
        "/api/articles/{id}": {"get": _operation("One article with its URLs, versions, duplicates and captures",
                                                 (), _json_content(ARTICLE_DETAIL_SCHEMA)) | {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}]}},
        "/api/sources": {"get": _operation("Sources with their article counts and latest run", (),
                                           _json_content(_object("sources", {"type": "array", "items": _SOURCE})))},
        "/api/runs": {"get": _operation("Crawl runs, newest first", RUN_PARAMS,
                                        _json_content(_object("runs", {"type": "array", "items": _RUN})))},
        "/api/stats": {"get": _operation("Counts of the matching articles per source, language and day", FILTERS,
                                         _json_content(_STATS))},
        "/api/export.jsonl": {"get": _operation("Every matching article, one JSON object a line (streamed)",
                                                EXPORT_PARAMS, {"application/x-ndjson": {"schema": _STR}})},
        "/api/export.csv": {"get": _operation("Every matching article as CSV (streamed)", EXPORT_PARAMS,
                                              {"text/csv": {"schema": _STR}})},
    },
}
OPENAPI["paths"]["/api/articles/{id}"]["get"]["responses"]["404"] = {
    "description": "No such article", "content": _json_content(_ERROR)}
