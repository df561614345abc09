"""The API's query parameters, each declared once with its type, limits and description, in pydantic models.

FastAPI validates requests with these models and writes them into the OpenAPI document;
the web page reads its query string with the same models (``parse_query``). Rules that
tie parameters together (sorting by relevance needs ``q``, ``since`` comes before
``until``, a cursor belongs to one sort) are ``archive.query.search.ArticleQuery``'s: its
errors are reported under the parameter's name, so there is no second copy of them here.
A parameter that cannot be used is a ``ParameterError``, answered 422 by the API.

Pure pydantic, no FastAPI: ``archive.web.api.dependencies`` adapts these models to routes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Annotated, Any, Literal, TypeVar, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from starlette.datastructures import QueryParams

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

)

EXPORT_FIELDS = ARTICLE_FIELDS + EXTRA_FIELDS  # snippets belong to a page of results, not to data
MAX_TEXT = 1000  # characters of a search or a name: longer is a mistake or an attack
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # fromisoformat alone would take 20260101 and 2026-W01-1
QUERY_FIELDS = frozenset(field.name for field in dataclass_fields(ArticleQuery) if field.init)


class ParameterError(ValueError):
    """A request parameter that cannot be used; answered 422 with the parameter's name."""

    def __init__(self, parameter: str | None, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _iso_day(value: Any) -> Any:
    """A YYYY-MM-DD string as a date; pydantic alone would also take a Unix time or 20260101."""
    if not isinstance(value, str):
        return value
    try:
        if ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise PydanticCustomError("iso_date", "must be a date as YYYY-MM-DD")


# PostgreSQL refuses NUL in text: the pattern says so here rather than fail in the database
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT, pattern=r"^[^\x00]*$")]
Day = Annotated[date, BeforeValidator(_iso_day)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Sort = Literal[SORTS]  # type: ignore[valid-type]
Order = Literal[ORDERS]  # type: ignore[valid-type]


class Parameters(BaseModel):
    """A set of query parameters: any other one is refused, with the list of those there are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def names(cls) -> list[str]:
        """The parameters' names, as a URL spells them, in declaration order."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    @classmethod
    def repeatable(cls) -> frozenset[str]:
        """The parameters that may be given several times: ?source=a&source=b."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items()
                         if get_origin(field.annotation) is list)

    @model_validator(mode="before")
    @classmethod
    def _only_known(cls, data: Any) -> Any:
        """Refuse an unknown parameter by name, listing the known ones (``extra="forbid"`` would not)."""
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(cls.names()))
            if unknown:
                known = f"parameters are: {', '.join(cls.names())}" if cls.names() else "this endpoint takes none"
                raise PydanticCustomError("unknown_parameter", "unknown parameter '{parameter}'; {known}",
                                          {"parameter": unknown[0], "known": known})
        return data

    def parameter_of(self, field_name: str) -> str:
        """The parameter that fills a field (``text`` is ``q``)."""
        field = type(self).model_fields.get(field_name)
        return (field.alias or field_name) if field else field_name


class NoParams(Parameters):
    """No parameters at all."""


class FilterParams(Parameters):
    """Which articles: the filters of a search, for its pages, its counts and its exports."""

    text: Text | None = Field(None, alias="q", description=(
        'Search: words (all must match), "a phrase", OR, -excluded, prefix*. '
        "Case, accents and Arabic diacritics are ignored."))
    source: list[Text] = Field([], description="Only these sources (repeat the parameter for several).")
    language: list[Text] = Field([], alias="lang", description=(
        "Only these languages, ISO 639-1 (repeatable). Searches also match the words' inflections "
        "in these languages."))
    since: Day | None = Field(None, description="Published on or after this day.")
    until: Day | None = Field(None, description="Published on or before this day.")
    seen_since: Day | None = Field(None, description="First archived on or after this day (UTC).")
    seen_until: Day | None = Field(None, description="First archived on or before this day (UTC).")
    author: Text | None = Field(None, description="Part of an author's name, any case.")
    has_duplicates: bool | None = Field(None, description=(
        "true: only articles copied elsewhere; false: only the others."))
    unique: bool | None = Field(None, description="Hide duplicates (articles with duplicate_of set).")
    story: Id | None = Field(None, description="Only the articles of this story (story_id).")

    def article_query(self, **defaults: Any) -> ArticleQuery:
        """The ArticleQuery of the parameters given (``defaults`` for the others); its errors name the parameter."""
        given = {name: getattr(self, name) for name in self.model_fields_set & QUERY_FIELDS}
        try:
            return ArticleQuery(**(defaults | given))
        except QueryError as exc:
            raise ParameterError(self.parameter_of(exc.field), str(exc)) from None


class SortParams(FilterParams):
    """Filters and an order."""

    sort: Sort | None = Field(None, description=(
        "relevance (the default with q), published (the default without) or first_seen."))
    order: Order | None = Field(None, description=(
        "desc (newest first, the default) or asc; relevance is always best first."))


def _fields_param(allowed: Sequence[str]) -> Any:
    return Field(None, description=f"Comma-separated fields to return (default: all): {', '.join(allowed)}.")


def _field_names(fields: str | None, allowed: Sequence[str]) -> tuple[str, ...] | None:
    """The ``fields`` parameter as names, in their order, checked against ``allowed``; None for all."""
    if fields is None:
        return None
    names = [name.strip() for name in fields.split(",") if name.strip()]
    try:
        return check_fields(names, allowed) or None
    except QueryError as exc:
        raise ParameterError("fields", str(exc)) from None


class PageParams(SortParams):
    """A page of search results, as the web page shows it."""

    limit: Limit | None = Field(None, description="Articles per page.")
    cursor: Text | None = Field(None, description=(
        "next_cursor of the previous page: keyset pagination, no row lost or repeated."))


class ArticleParams(PageParams):
    """A page of search results, with the fields to return."""

    fields: Text | None = _fields_param(FIELDS)

    def field_names(self) -> tuple[str, ...] | None:
        """The fields asked for; None for all."""
        return _field_names(self.fields, FIELDS)


class ExportParams(SortParams):
    """Every match of a search, in order, with the fields to export."""

    at_most: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(  # there are no more
        None, alias="limit", description="At most this many articles (default: all).")
    fields: Text | None = _fields_param(EXPORT_FIELDS)

    def field_names(self) -> tuple[str, ...]:
        """The fields asked for, all by default."""
        return _field_names(self.fields, EXPORT_FIELDS) or EXPORT_FIELDS


class RunParams(Parameters):
    """Which crawl runs."""

    source: Text | None = Field(None, description="Only the runs of this source.")
    limit: Limit = Field(20, description="How many runs.")


# --- from a query string --------------------------------------------------------------------
P = TypeVar("P", bound=Parameters)

MESSAGES = {  # pydantic's error types as a user reads them, after the parameter's name
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must not contain a NUL character",  # Text's pattern, the only one
    "iso_date": "must be a date as YYYY-MM-DD, not {input!r}",
    "int_parsing": "must be a whole number, not {input!r}",
    "int_from_float": "must be a whole number, not {input!r}",
    "greater_than_equal": "must be at least {ge}, not {input!r}",
    "less_than_equal": "must be at most {le}, not {input!r}",
    "bool_parsing": "must be true or false, not {input!r}",
    "literal_error": "must be one of {expected}, not {input!r}",
}


def parameter_error(errors: Sequence[Mapping[str, Any]]) -> ParameterError:
    """The first of pydantic's errors (``loc`` starting at the parameter) as a ParameterError."""
    error = errors[0]
    context = error.get("ctx") or {}
    if error["type"] == "unknown_parameter":
        return ParameterError(context["parameter"], error["msg"])
    parameter = str(error["loc"][0]) if error["loc"] else None
    template = MESSAGES.get(error["type"])
    if template is None:
        return ParameterError(parameter, f"{parameter}: {error['msg']}" if parameter else error["msg"])
    return ParameterError(parameter, f"{parameter} " + template.format(input=error.get("input"), **context))


def check_given_once(model: type[Parameters], keys: Iterable[str]) -> None:
    """ParameterError for a parameter given twice that is not repeatable: which value would count?"""
    counts = Counter(keys)
    repeatable = model.repeatable()
    for name in model.names():
        if counts[name] > 1 and name not in repeatable:
            raise ParameterError(name, f"{name} is given {counts[name]} times; give it once")


def parse_query(model: type[P], query: QueryParams, *, blank_is_absent: bool = False) -> P:
    """The parameters of a query string; ``blank_is_absent`` for forms, which send empty fields."""
    items = [(key, value) for key, value in query.multi_items() if value != "" or not blank_is_absent]
    check_given_once(model, (key for key, _ in items))
    repeatable = model.repeatable()
    data: dict[str, Any] = {}
    for key, value in items:
        if key in repeatable:
            data.setdefault(key, []).append(value)
        else:
            data[key] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise parameter_error(exc.errors()) from None

