"""Article search, the core of the query layer: the CLI, the JSON API and the web page call it.

:class:`ArticleQuery` says what to look for; :func:`query_plan` turns it into SQL on either
database (full-text search: FTS5 on SQLite, ``tsvector`` on PostgreSQL, both written by
``archive.query.fulltext``), filters, sorting and keyset pagination; :func:`search_page`
answers a page with highlighted snippets, :func:`iter_articles` streams every match for
exports. Results are plain dicts (the JSON-lines contract of DESIGN.md, :func:`article_dict`),
so every front end prints the same fields. Facet counts, one article in full and the
runs and sources listings are beside this module (``facets``, ``articles``, ``runs``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import Double, Float

from archive.catalogue.store import Catalogue
from archive.query.fulltext import (
    Search,
    SearchSyntaxError,
    fts5_match,
    highlighter,
    mark,
    parse_search,
    pg_term_queries,
    pg_tsquery_text,
    snippet,
)
from archive.catalogue.models import FTS_TABLE, Article, Capture, SourceRow
from archive.wayback import replay_url

ARTICLE_FIELDS = (
    "id", "url", "canonical_url", "source", "title", "authors", "published", "language", "sitename",
    "text", "first_seen", "last_seen", "warc_file", "warc_offset", "content_hash", "duplicate_of", "story_id",
)
EXTRA_FIELDS = ("description", "duplicate_kind", "versions", "replay_url")
SNIPPET_FIELDS = ("title_snippet", "snippet")  # HTML: text escaped, matched words in <mark>
FIELDS = ARTICLE_FIELDS + EXTRA_FIELDS + SNIPPET_FIELDS
SORTS = ("relevance", "published", "first_seen")
ORDERS = ("desc", "asc")
MAX_LIMIT = 1000  # a page; exports stream everything instead
MAX_ID = 2**31 - 1  # articles.id is an INTEGER: 32 bits on PostgreSQL
SNIPPET_CHARS = 240  # about three lines of a result list


class QueryError(ValueError):
    """A query that cannot be run; ``field`` names the ArticleQuery field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _values(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class ArticleQuery:
    """What to look for; every field optional. Invalid values raise QueryError at creation."""

    text: str | None = None  # search syntax: archive.query.fulltext
    source: str | Sequence[str] | None = None  # any of these sources
    language: str | Sequence[str] | None = None  # any of these languages
    since: date | None = None  # published on or after
    until: date | None = None  # published on or before
    seen_since: date | None = None  # first seen on or after
    seen_until: date | None = None  # first seen on or before
    author: str | None = None  # part of an author's name, any case
    story: int | None = None  # the articles of one story (story_id): an original and its copies
    has_duplicates: bool | None = None  # True: only articles copied elsewhere; False: only the others
    unique: bool = False  # hide duplicates (articles with duplicate_of set)
    # relevance, published (by day, then the instant within it where known, then id) or first_seen;
    # default relevance with text
    sort: str | None = None
    order: str = "desc"  # of published and first_seen; relevance is always best first
    limit: int | None = 50  # page size; None: no limit (exports)
    cursor: str | None = None  # next_cursor of the previous page
    search: Search | None = field(default=None, init=False, repr=False, compare=False)
    position: tuple[Any, int] | None = field(default=None, init=False, repr=False, compare=False)  # the cursor's

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalised values are set once, here
        set_(self, "source", _values(self.source))
        set_(self, "language", _values(self.language))
        # PostgreSQL refuses NUL in text: say so here rather than fail in the database
        for name, values in (("text", [self.text]), ("author", [self.author]), ("cursor", [self.cursor]),
                             ("source", self.source), ("language", self.language)):
            if any("\x00" in (value or "") for value in values):
                raise QueryError(name, f"{name} contains a NUL character")
        if self.text and self.text.strip():
            try:
                set_(self, "search", parse_search(self.text))
            except SearchSyntaxError as exc:
                raise QueryError("text", str(exc)) from None
        sort = self.sort or ("relevance" if self.search else "published")
        if sort not in SORTS:
            raise QueryError("sort", f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if sort == "relevance" and not self.search:
            raise QueryError("sort", "sorting by relevance needs a search text")
        set_(self, "sort", sort)
        if self.order not in ORDERS:
            raise QueryError("order", f"order must be desc or asc, not {self.order!r}")
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError("limit", f"limit must be between 1 and {MAX_LIMIT}")
        for low, high in (("since", "until"), ("seen_since", "seen_until")):
            if getattr(self, low) and getattr(self, high) and getattr(self, low) > getattr(self, high):
                raise QueryError(low, f"{low} ({getattr(self, low)}) is after {high} ({getattr(self, high)})")
        if self.cursor:
            set_(self, "position", _decode_cursor(self.cursor, sort, self.order))


@dataclass(frozen=True)
class ArticlePage:
    """One page of results and the cursor of the next one (None on the last page)."""

    articles: list[dict[str, Any]]
    next_cursor: str | None


# --- how a query becomes SQL ----------------------------------------------------------------
_ARTICLE_COLUMNS = (
    Article.id, Article.url, Article.canonical_url, SourceRow.name.label("source"), Article.title,
    Article.authors, Article.published, Article.published_at, Article.language, Article.sitename, Article.description,
    Article.text, Article.first_seen, Article.last_seen, Capture.warc_file, Capture.warc_offset,
    Capture.timestamp.label("capture_time"), Capture.url.label("capture_url"), Article.content_hash,
    Article.duplicate_of, Article.duplicate_kind, Article.versions_count, Article.story_id,
)
_FTS = table(FTS_TABLE, column("rowid"))
_FTS_TABLE = literal_column(FTS_TABLE)
_SEARCH_VECTOR = literal_column("articles.search_vector")
BM25_WEIGHTS = (10.0, 5.0, 1.0)  # title, description, text: a word in the title says more


@dataclass(frozen=True)
class Plan:
    """The FROM, WHERE and sort key of a query on one database."""

    query: ArticleQuery
    dialect: str
    where: tuple[ColumnElement, ...]
    match: ColumnElement | None  # the search text's condition
    rank: ColumnElement | None  # ascending = more relevant

    def select(self, *columns: Any) -> Select:
        statement = select(*columns)
        if self.query.search and self.dialect == "sqlite":
            statement = statement.select_from(_FTS).join(Article, Article.id == _FTS.c.rowid)
        return statement.where(*self.where)

    def key(self) -> tuple[ColumnElement, bool, bool]:
        """(sort key, key descending, id descending)."""
        if self.query.sort == "relevance":
            return self.rank, False, True  # type: ignore[return-value]
        descending = self.query.order == "desc"
        return (Article.published_order if self.query.sort == "published" else Article.first_seen), descending, descending

    def order_by(self, key: Any = None, id_: Any = Article.id) -> tuple[ColumnElement, ...]:
        """The ORDER BY, of the articles' columns or of a subquery's (``key``, ``id_``)."""
        own_key, key_desc, id_desc = self.key()
        key = own_key if key is None else key
        key_order = key.desc() if key_desc else key.asc()
        if self.query.sort == "published" and self.dialect == "postgresql":
            # An undated article counts as the oldest, SQLite's own order and that of the
            # (published_order DESC NULLS LAST) indexes, which read backwards give the other way.
            key_order = key_order.nulls_last() if key_desc else key_order.nulls_first()
        return key_order, id_.desc() if id_desc else id_.asc()

    def after(self, position: tuple[Any, int] | None = None) -> ColumnElement:
        """Rows after ``position`` (default: the cursor's), a (key, id), in this order: keyset pagination."""
        key_value, id_value = position or self.query.position  # type: ignore[misc]
        key, key_desc, id_desc = self.key()
        id_beyond = Article.id < id_value if id_desc else Article.id > id_value
        nullable = self.query.sort == "published"  # undated articles: last newest first, first oldest first
        if key_value is None:
            undated = and_(key.is_(None), id_beyond)
            return undated if key_desc else or_(undated, key.is_not(None))
        bound = bindparam(None, key_value, type_=key.type)
        condition = or_(key < bound if key_desc else key > bound, and_(key == bound, id_beyond))
        return or_(condition, key.is_(None)) if nullable and key_desc else condition


# The text-search configurations the articles were indexed with: one index probe per
# language (a loose index scan); the NULL that ends the walk stands for articles without
# a language, indexed with newsarchive_simple.
_PRESENT_CONFIGS = text("""
    WITH RECURSIVE present(language) AS (
        SELECT min(language) FROM articles
        UNION ALL
        SELECT (SELECT min(language) FROM articles WHERE language > present.language)
        FROM present WHERE present.language IS NOT NULL)
    SELECT DISTINCT newsarchive_ts_config(language)::text FROM present""")
_LANGUAGE_CONFIGS = text(
    "SELECT DISTINCT newsarchive_ts_config(language)::text FROM unnest(CAST(:languages AS text[])) AS language")


def query_plan(session: Session, query: ArticleQuery) -> Plan:
    """The plan of a query on the session's database (a search on PostgreSQL asks it how to parse the words)."""
    dialect = session.get_bind().dialect.name
    where: list[ColumnElement] = []
    match = rank = None
    if query.search:
        if dialect == "sqlite":
            match = _FTS_TABLE.op("MATCH")(fts5_match(query.search))
            rank = type_coerce(func.bm25(_FTS_TABLE, *BM25_WEIGHTS), Float)
        else:
            # PostgreSQL indexed each article with its language's configuration: parse the
            # search with those of the languages searched, or of every language there is.
            configs = session.scalars(_LANGUAGE_CONFIGS, {"languages": list(query.language)}) \
                if query.language else session.scalars(_PRESENT_CONFIGS)
            parsed = _pg_tsquery_text(session, query.search, tuple(sorted(configs)))
            tsquery = cast(bindparam(None, parsed or "", type_=String), TSQUERY)
            match = _SEARCH_VECTOR.op("@@")(tsquery) if parsed else false()  # only stop words: no match
            # ts_rank is a real; as a double, its text round-trips exactly through a cursor
            rank = -cast(func.ts_rank(_SEARCH_VECTOR, tsquery), Double)
        where.append(match)
    where += group_conditions(session, query, Article)
    if query.seen_since:
        where.append(Article.first_seen >= datetime.combine(query.seen_since, time()))
    if query.seen_until:
        where.append(Article.first_seen < datetime.combine(query.seen_until + timedelta(days=1), time()))
    if query.author:
        where.append(_author_matches(dialect, query.author))
    if query.has_duplicates is not None:
        copy = aliased(Article)
        copied = exists().where(copy.duplicate_of == Article.id)
        where.append(copied if query.has_duplicates else ~copied)
    if query.unique:
        where.append(Article.duplicate_of.is_(None))
    if query.story is not None:
        where.append(Article.story_id == query.story)
    return Plan(query, dialect, tuple(where), match, rank)


def group_conditions(session: Session, query: ArticleQuery, columns: Any) -> list[ColumnElement]:
    """The query's conditions on an article's group (source, language, published day), on
    ``columns``: the articles' (``Article``) or the counts' per group (``article_counts.c``)."""
    where = []
    if query.source:
        # ids, not a subquery: the planner then knows how big each source is
        source_ids = session.scalars(select(SourceRow.id).where(SourceRow.name.in_(query.source))).all()
        where.append(columns.source_id.in_(source_ids))
    if query.language:
        where.append(columns.language.in_(query.language))
    if query.since:
        where.append(columns.published >= query.since)
    if query.until:
        where.append(columns.published <= query.until)
    return where


def _pg_tsquery_text(session: Session, search: Search, configs: tuple[str, ...]) -> str | None:
    """The search as a constant tsquery: every term parsed by PostgreSQL in one round trip.

    A constant (not an expression) lets the planner use its statistics of each word, and
    so choose between the full-text index and a walk of the newest articles.
    """
    terms = list(dict.fromkeys(t for clause in search.clauses for t in (*clause.include, *clause.exclude)))
    queries = [pg_term_queries(term, configs) for term in terms]
    row = iter(session.execute(select(*(cast(q, String) for qs in queries for q in qs))).one())
    parsed = {term: [next(row) for _ in qs] for term, qs in zip(terms, queries, strict=True)}
    return pg_tsquery_text(search, parsed)


def _author_matches(dialect: str, name: str) -> ColumnElement:
    """Some author's name contains ``name``, any case (authors is a JSON list of names)."""
    pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if dialect == "sqlite":
        each = func.json_each(Article.authors).table_valued("value")
    else:
        each = func.json_array_elements_text(Article.authors).table_valued("value")
    return exists(select(1).select_from(each).where(func.lower(each.c.value).like(pattern, escape="\\")))


def _encode_cursor(query: ArticleQuery, key: Any, article_id: int) -> str:
    if isinstance(key, date | datetime):
        key = key.isoformat()
    raw = json.dumps([query.sort, query.order, key, article_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, query_sort: str, query_order: str) -> tuple[Any, int]:
    """(key, id) from a cursor made for this sort; QueryError for anything else."""
    try:
        sort, order, key, article_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (sort, order) != (query_sort, query_order) and not (sort == query_sort == "relevance"):
            raise QueryError("cursor", "this cursor belongs to another sort order: start from the first page")
        if not isinstance(article_id, int) or isinstance(article_id, bool) or not 0 <= article_id <= MAX_ID:
            raise TypeError(article_id)
        if sort == "relevance":
            return float(key), article_id
        if key is None:
            return None, article_id
        if sort == "published":  # a published_order key: a day, then maybe an instant (identity.published_order)
            if not isinstance(key, str) or not key.isascii():
                raise TypeError(key)
            date.fromisoformat(key[:10])
            return key, article_id
        return datetime.fromisoformat(key).replace(tzinfo=None), article_id
    except QueryError:
        raise
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise QueryError("cursor", "not a cursor this API handed out: start from the first page") from None


# --- results --------------------------------------------------------------------------------
def iso_utc(moment: datetime | None) -> str | None:
    """A catalogue time (naive UTC) as the results write it: ISO 8601 with a Z."""
    return moment.isoformat() + "Z" if moment else None


def article_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """An article as the JSON-lines contract spells it, from a row of _ARTICLE_COLUMNS."""
    return {
        "id": row["id"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "source": row["source"],
        "title": row["title"],
        "authors": list(row["authors"] or []),
        "published": row["published_at"] or (row["published"].isoformat() if row["published"] else None),
        "language": row["language"],
        "sitename": row["sitename"],
        "text": row["text"],
        "first_seen": iso_utc(row["first_seen"]),
        "last_seen": iso_utc(row["last_seen"]),
        "warc_file": row["warc_file"],
        "warc_offset": row["warc_offset"],
        "content_hash": row["content_hash"],
        "duplicate_of": row["duplicate_of"],
        "story_id": row["story_id"],
        "description": row["description"],
        "duplicate_kind": row["duplicate_kind"],
        "versions": row["versions_count"],
        "replay_url": replay_url(row["capture_time"], row["capture_url"]) if row["capture_time"] else None,
    }


def _joined(statement: Select) -> Select:
    return (statement.join(SourceRow, SourceRow.id == Article.source_id)
            .outerjoin(Capture, Capture.id == Article.capture_id))


def article_select(plan: Plan, *extra: Any) -> Select:
    """The plan's articles as rows of _ARTICLE_COLUMNS (and ``extra``), which article_dict reads."""
    return _joined(plan.select(*_ARTICLE_COLUMNS, *extra))


# --- a search's page in date order ----------------------------------------------------------
# Two ways to find it. Matches first: every match's date is read, then the newest are kept;
# its cost grows with the matches, ~40% of the catalogue for a common word. In date order:
# articles are read newest first (an index) and each is checked against the search until
# the page is full; its cost grows with how rare the words are. The cheaper one is chosen by
# the words' estimated share of the articles (s): in date order reads (limit + 1) / s articles,
# matches first N * s, and checking an article costs PROBE_COST times reading a match's date.
PROBE_COST = {
    # query_bench, 100k articles, 2 cores: SQLite checks an article (an FTS5 probe: MATCH and
    # rowid =) in ~70 us and reads a match's date in ~3.5 us; PostgreSQL checks one (its heap
    # row, its tsvector de-TOASTed) in ~33 us and reads a match's in ~1.9 us (bitmap heap scan).
    "sqlite": 20.0,
    "postgresql": 17.0,
}
WALK_MARGIN = 4  # in date order gives up after this many times the articles it expected to read
SHARE_SAMPLE = 2000  # SQLite: the newest ids whose matches estimate the words' share


def _match_estimate(session: Session, plan: Plan) -> tuple[float, float]:
    """(estimated matches of the search text alone, articles): SQLite counts the matches among the
    newest ids, PostgreSQL's planner says from its statistics of the words."""
    if plan.dialect == "sqlite":
        newest = session.scalar(select(func.max(Article.id))) or 0
        sample = min(SHARE_SAMPLE, newest)
        hits = session.scalar(select(func.count()).select_from(_FTS).where(plan.match, _FTS.c.rowid > newest - sample))
        return (hits or 0) * newest / max(sample, 1), float(newest)
    everything = select(literal_column("1")).select_from(Article)
    both = everything.where(plan.match).union_all(everything)  # one plan: an estimate of each part
    compiled = both.compile(dialect=session.get_bind().dialect)
    explained = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    matching, every = (float(part["Plan Rows"]) for part in explained[0]["Plan"]["Plans"])
    return matching, every


def _matches_article(plan: Plan) -> ColumnElement:
    """The search text's condition on one article row (SQLite: a probe of the FTS5 index by rowid)."""
    if plan.dialect == "sqlite":
        return select(_FTS.c.rowid).where(plan.match, _FTS.c.rowid == Article.id).exists()
    return plan.match  # type: ignore[return-value]


def _in_date_order(session: Session, plan: Plan, wanted: int, share: float, budget: float) -> list[int] | None:
    """The ids of the first ``wanted`` matches, reading articles in the page's order and checking
    each against the search; None after ``budget`` articles without them (then matches first)."""
    others = [condition for condition in plan.where if condition is not plan.match]
    key = plan.key()[0]
    found: list[int] = []
    position = plan.query.position
    read = 0
    while read < budget:
        size = math.ceil(min(budget - read, max(wanted, 1.5 * (wanted - len(found)) / share)))
        candidates = (select(key, Article.id, _matches_article(plan).label("matches"))
                      .where(*others).order_by(*plan.order_by()).limit(size))
        chunk = session.execute(candidates.where(plan.after(position)) if position else candidates).all()
        found += [row.id for row in chunk if row.matches]
        if len(found) >= wanted or len(chunk) < size:  # the page is full, or no article is left
            return found[:wanted]
        position, read = (chunk[-1][0], chunk[-1][1]), read + size
    return None


def _matches_first(plan: Plan, wanted: int) -> Select:
    """The ids of the first ``wanted`` matches, from every match's sort key (materialised: the
    planner must not read the date index instead, the other way, which it would for rare words too)."""
    key = plan.key()[0]
    statement = plan.select(Article.id, key.label("key"))
    matches = (statement.where(plan.after()) if plan.query.position else statement).cte("matches")
    matches = matches.prefix_with("MATERIALIZED")
    return select(matches.c.id).order_by(*plan.order_by(matches.c.key, matches.c.id)).limit(wanted)


def _dated_page_ids(session: Session, plan: Plan, wanted: int) -> list[int] | Select:
    """The ids of a search's page in date order (and one more), the cheaper way of the two:
    found, or the statement that finds them."""
    matches, articles = _match_estimate(session, plan)
    share = matches / articles if articles else 0.0
    if share > 0:
        expected = wanted / share
        if expected * PROBE_COST[plan.dialect] < matches:
            found = _in_date_order(session, plan, wanted, share, WALK_MARGIN * expected)
            if found is not None:
                return found
    return _matches_first(plan, wanted)


def _page_rows(session: Session, plan: Plan, limit: int | None) -> list[Mapping[str, Any]]:
    """The rows of the page (and one more, which tells whether a next page exists)."""
    key = plan.key()[0].label("sort_key")
    if plan.query.search and plan.query.sort != "relevance" and limit is not None:
        ids = _dated_page_ids(session, plan, limit + 1)
        statement = _joined(select(*_ARTICLE_COLUMNS, key).select_from(Article)).where(Article.id.in_(ids))
        return session.execute(statement.order_by(*plan.order_by())).mappings().all()
    statement = article_select(plan, key).order_by(*plan.order_by())
    if plan.query.cursor:
        statement = statement.where(plan.after())
    if limit is not None:
        statement = statement.limit(limit + 1)
    return session.execute(statement).mappings().all()


def search_page(catalogue: Catalogue, query: ArticleQuery) -> ArticlePage:
    """One page of the articles matching the query, with snippets and the next page's cursor."""
    with catalogue.session() as session:
        rows = _page_rows(session, query_plan(session, query), query.limit)
    more = query.limit is not None and len(rows) > query.limit
    rows = rows[:query.limit]
    pattern = highlighter(query.search) if query.search else None
    articles = [
        article_dict(row) | {
            "title_snippet": mark(row["title"] or "", pattern),
            # a search shows where it matched; a listing, the gist: the description when there is one
            "snippet": snippet(row["text"] if pattern else row["description"] or row["text"] or "", pattern,
                               SNIPPET_CHARS),
        }
        for row in rows
    ]
    next_cursor = _encode_cursor(query, rows[-1]["sort_key"], rows[-1]["id"]) if more else None
    return ArticlePage(articles, next_cursor)


def search_articles(catalogue: Catalogue, query: ArticleQuery) -> list[dict[str, Any]]:
    """The articles of the query's first page (or of its cursor's page)."""
    return search_page(catalogue, query).articles


def iter_articles(catalogue: Catalogue, query: ArticleQuery) -> Iterator[dict[str, Any]]:
    """Every matching article in the query's order, streamed: exports of any size in bounded memory."""
    with catalogue.session() as session:
        plan = query_plan(session, query)
        statement = article_select(plan).order_by(*plan.order_by())
        if query.cursor:
            statement = statement.where(plan.after())
        if query.limit is not None:
            statement = statement.limit(query.limit)
        # Core rows (the ORM's per-row work buys nothing here); yield_per: a server-side
        # cursor on PostgreSQL, batches of rows rather than all of them.
        rows = session.connection().execution_options(yield_per=1000).execute(statement).mappings()
        for row in rows:
            yield article_dict(row)


def project(article: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    """Only ``fields`` of an article, in that order (all when None)."""
    return article if not fields else {name: article.get(name) for name in fields}


def check_fields(fields: Sequence[str], allowed: Sequence[str] = FIELDS) -> tuple[str, ...]:
    """The field names, or QueryError naming the unknown ones and the known ones."""
    unknown = [name for name in fields if name not in allowed]
    if unknown:
        raise QueryError("fields", f"unknown field(s) {', '.join(unknown)}; fields are: {', '.join(allowed)}")
    return tuple(fields)
