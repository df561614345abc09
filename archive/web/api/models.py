"""What each endpoint of the API returns, as pydantic models: FastAPI checks every answer
against them and writes them into the OpenAPI document.

They describe the plain dicts of ``archive.query.search`` (the JSON-lines contract of DESIGN.md),
field for field and in the same order; times are UTC, as ISO 8601 with a ``Z``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model


class Article(BaseModel):
    """An article as ``newsarchive articles --format jsonl`` and the exports spell it."""

    id: int
    url: str
    canonical_url: str
    source: str
    title: str | None
    authors: list[str]
    published: str | None = Field(description=(
        "ISO 8601 as the page states it: with time and zone where known, else a day (YYYY-MM-DD)"))
    language: str | None
    sitename: str | None
    text: str
    first_seen: datetime
    last_seen: datetime
    warc_file: str | None
    warc_offset: int | None
    content_hash: str
    duplicate_of: int | None
    story_id: int | None = Field(description="the story: an original and its copies, across sources, share it")
    description: str | None
    duplicate_kind: str | None = Field(description="exact or near, when the article is a duplicate")
    versions: int = Field(description="how many distinct bodies the article has had")
    replay_url: str | None = Field(description="its latest capture in the replay server")


def _optional(description: str | None) -> Any:
    """A field a page may leave out (``fields=``), without the null default pydantic would document."""
    return Field(None, description=description, json_schema_extra=lambda schema: schema.pop("default", None))


ArticleHit = create_model(
    "ArticleHit",
    __doc__="An article of a page of results: the Article fields and two highlighted snippets, or only "
            "the ones ``fields`` asks for.",
    **{name: (field.annotation, _optional(field.description)) for name, field in Article.model_fields.items()},
    title_snippet=(str, _optional("HTML: the title, searched words in <mark>")),
    snippet=(str, _optional("HTML: a fragment of the text, searched words in <mark>")),
)


class ArticlePage(BaseModel):
    """A page of articles and where the next one is."""

    articles: list[ArticleHit]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="cursor of the next page; null on the last page")
    next: str | None = Field(description="URL of the next page; null on the last page")


class Version(BaseModel):
    """A distinct body an article has had."""

    version: int
    title: str | None
    fetched: datetime
    content_hash: str
    text: str
    capture_id: int | None


class Capture(BaseModel):
    """One archived fetch of one of the article's URLs."""

    id: int
    url: str
    timestamp: datetime
    status: int
    record_type: str = Field(description="response, or revisit for a payload archived before")
    warc_file: str
    warc_offset: int
    warc_length: int
    payload_digest: str
    replay_url: str


class Duplicate(BaseModel):
    """An article that copies this one."""

    id: int
    url: str
    source: str
    title: str | None
    kind: str | None = Field(description="exact or near")


class StoryMember(BaseModel):
    """Another article of the same story."""

    id: int
    url: str
    source: str
    published: str | None
    first_seen: datetime
    original: bool = Field(description="whether it is the story's original (the others are its copies)")


class ArticleDetail(Article):
    """One article with every URL it was seen at, its versions, duplicates, captures and story."""

    versions: list[Version]  # type: ignore[assignment]  # a page counts them, the detail lists them
    urls: list[str]
    captures: list[Capture]
    duplicates: list[Duplicate]
    story: list[StoryMember] = Field(description="the story's other articles, earliest published first")


class Run(BaseModel):
    """One crawl of one source, as ``newsarchive runs --format jsonl`` spells it."""

    id: int
    source: str
    status: Literal["running", "ok", "failed", "interrupted"]
    started: datetime
    finished: datetime | None
    pages: int
    not_modified: int = Field(description="of the pages, 304 answers to conditional requests")
    not_articles: int = Field(description="of the pages, article URLs that held no article (not fetched again)")
    bytes: int
    articles_new: int
    articles_updated: int
    articles_duplicate: int
    errors: int
    error_kinds: dict[str, int] = Field(description="errors by kind: http_404, DNSLookupError...")
    warc_files: list[str]
    message: str | None = Field(description="why the run failed or was interrupted")


class RunList(BaseModel):
    """Crawl runs, newest first."""

    runs: list[Run]


class Source(BaseModel):
    """A source with its article count and latest run."""

    name: str
    articles: int
    first_seen: datetime | None
    last_seen: datetime | None
    last_run: Run | None


class SourceList(BaseModel):
    """Every source."""

    sources: list[Source]


class Count(BaseModel):
    """How many articles have this source or language."""

    value: str
    count: int


class DayCount(BaseModel):
    """How many articles were published on a day."""

    day: date
    count: int


class DaySourceCount(BaseModel):
    """How many articles of a source were published on a day."""

    day: date
    source: str
    count: int


class Stats(BaseModel):
    """Counts of the matching articles."""

    total: int
    undated: int = Field(description="articles without a published date, in no day")
    sources: list[Count] = Field(description="most articles first")
    languages: list[Count] = Field(description="most articles first; unknown for articles without one")
    days: list[DayCount]
    by_day_source: list[DaySourceCount]


class Error(BaseModel):
    """Why a request was refused."""

    error: str = Field(description="what is wrong and what to do instead")
    parameter: str | None = Field(description="the parameter at fault, if one is")
