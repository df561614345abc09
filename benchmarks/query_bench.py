"""How fast the query layer is on a big catalogue: SQLite and PostgreSQL, up to a million articles.

Fills each catalogue with synthetic articles (French, Arabic and English, of realistic
length; generated here by a second process, nothing fetched) in bulk loads
(``archive.catalogue.bulk``: executemany on SQLite, CHUNK articles a load; COPY on
PostgreSQL, one load; the per-row triggers suspended and their work done at each load's
end, as `db copy` does per batch), then measures through ``archive.query.search``, as the
CLI and API call it:

- load rate (articles/s, full-text indexing, counts and ANALYZE included);
- median and p95 latency of a one-word and of a phrase search filtered by a source and
  a date range, first page of 20, newest first (also: by relevance);
- a very common word (in about four articles in ten), all sources and dates, newest first:
  its first page of 20 and the next one by its cursor;
- facet counts (of a search; of the whole catalogue and of a source and 180 days, which the
  counts per group kept by triggers answer);
- a full CSV export's rate (rows/s, MB/s).

Run by hand, e.g. (1M articles take a while to load: try --articles 100000 first):

    python benchmarks/query_bench.py --articles 1000000 \\
        --sqlite /tmp/bench.sqlite --postgres postgresql+psycopg://postgres@127.0.0.1:5432/newsarchive_bench

A catalogue that already holds the requested number of articles is reused (``--reload``
starts afresh); the PostgreSQL database is created when missing.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Connection, make_url

from archive.catalogue.bulk import bulk_load
from archive.catalogue.store import Catalogue
from archive.query.exports import csv_lines
from archive.catalogue.models import Article, SourceRow
from archive.query.facets import facet_counts
from archive.query.search import ArticleQuery, iter_articles, search_page

SEED = 20261129
SOURCES = 20
LANGUAGES = (("fr", 0.45), ("ar", 0.30), ("en", 0.25))
FIRST_DAY, DAYS = date(2023, 1, 1), 3 * 365
SENTENCES_PER_LANGUAGE = 20_000  # articles are drawn from this pool: word statistics stay Zipfian
# Topic words planted at a known rate, as a newsroom's names and phrases are: what people search.
PLANTED = {
    "fr": (("interpol", 0.004), ("conseil de sécurité", 0.003)),
    "en": (("interpol", 0.004), ("security council", 0.003)),
    "ar": (("الإنتربول", 0.004), ("مجلس الأمن", 0.003)),
}
ALPHABETS = {
    "fr": "aaabcdeeeeéèfghiiilmnnooprrsssttuuvàâçêîôû",
    "en": "aaabbcddeeeeefghhiiilmnnoooprrsssttuwy",
    "ar": "ابتثجحخدذرزسشصضطظعغفقكلمنهويةىأإآ",
}
STOPWORDS = {
    "fr": "le la les de des du et à en un une pour que qui dans sur par au avec est a été".split(),
    "en": "the of and to in a is that for on with was as by at from it be has have".split(),
    "ar": "في من على إلى أن التي الذي عن مع هذا هذه كان قد بين".split(),
}
BATCH = 2_000
# SQLite: articles per bulk load (one transaction each). A million in one load took 617 s, in
# ten 383 s with bulk.FTS_HASH_BYTES (idle 2-core machine, 2026-12-04): the one load's WAL grew to
# 4.7 GB, and filling the FTS5 index read the articles back through it (421 s of the 617).
CHUNK = 100_000


def _vocabulary(rng: random.Random, language: str, size: int = 30_000) -> tuple[list[str], list[float]]:
    """Pseudo-words with Zipf weights, stop words the most frequent, as in real text."""
    alphabet = ALPHABETS[language]
    words = list(STOPWORDS[language])
    while len(words) < size:
        words.append("".join(rng.choice(alphabet) for _ in range(max(2, int(rng.gauss(7, 2.5))))))
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank ** 1.07
        cumulative.append(total)
    return words, cumulative


def _sentences(rng: random.Random, language: str) -> list[str]:
    words, cumulative = _vocabulary(rng, language)
    pool = []
    for _ in range(SENTENCES_PER_LANGUAGE):
        chosen = rng.choices(words, cum_weights=cumulative, k=max(4, int(rng.gauss(18, 6))))
        sentence = " ".join(chosen)
        pool.append(sentence[0].upper() + sentence[1:] + ".")
    return pool


def common_word() -> str:
    """The French articles' most frequent word after the stop words: in most of them.

    generate() draws the French vocabulary first from its seeded generator: the same words.
    """
    words, _ = _vocabulary(random.Random(SEED), "fr")
    return words[len(STOPWORDS["fr"])]


def generate(count: int, source_ids: list[int]) -> Iterator[dict]:
    """``count`` articles: about 3,500 characters of text each, a title, a description, two authors."""
    rng = random.Random(SEED)
    pools = {language: _sentences(rng, language) for language, _ in LANGUAGES}
    names = [f"{rng.choice(['Amina', 'Omar', 'Sara', 'Youssef', 'Hind', 'Nadia', 'John', 'Marie'])} "
             f"{rng.choice(['Tazi', 'Chraïbi', 'Belkacem', 'Smith', 'Durand', 'Amrani', 'Idrissi'])}{i}"
             for i in range(400)]
    codes, weights = zip(*LANGUAGES, strict=True)
    source_weights = [1 / (i + 1) for i in range(len(source_ids))]
    start = datetime(2023, 1, 1)
    for number in range(1, count + 1):
        language = rng.choices(codes, weights)[0]
        pool = pools[language]
        paragraphs = [" ".join(rng.choices(pool, k=rng.randint(2, 5))) for _ in range(rng.randint(4, 9))]
        for phrase, rate in PLANTED[language]:
            if rng.random() < rate:
                paragraphs[rng.randrange(len(paragraphs))] += f" {phrase} {rng.choice(pool)}"
        body = "\n\n".join(paragraphs)
        published = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        seen = start + timedelta(days=(published - FIRST_DAY).days, hours=rng.randint(1, 30))
        digest = hashlib.sha1(body.encode()).hexdigest()
        yield {
            "source_id": rng.choices(source_ids, source_weights)[0],
            "canonical_url": f"https://news{number % 97}.example/{published:%Y/%m/%d}/article-{number}.html",
            "url": f"https://news{number % 97}.example/{published:%Y/%m/%d}/article-{number}.html",
            "title": rng.choice(pool)[:110],
            "authors": json.dumps(rng.sample(names, rng.randint(1, 2)), ensure_ascii=False),
            "published": published,
            "language": language,
            "sitename": f"News {number % 97}",
            "description": rng.choice(pool),
            "text": body,
            "content_hash": digest,
            "duplicate_of": None,
            "first_seen": seen,
            "last_seen": seen,
            "versions_count": 1,
        }


COLUMNS = ("source_id", "canonical_url", "url", "title", "authors", "published", "language", "sitename",
           "description", "text", "content_hash", "duplicate_of", "first_seen", "last_seen", "versions_count")


def _produce(count: int, source_ids: list[int], batches: multiprocessing.Queue) -> None:
    """generate()'s articles put on ``batches`` BATCH at a time, then None: the load's other core."""
    batch = []
    for row in generate(count, source_ids):
        batch.append(row)
        if len(batch) == BATCH:
            batches.put(batch)
            batch = []
    if batch:
        batches.put(batch)
    batches.put(None)


def _generated(count: int, source_ids: list[int]) -> Iterator[list[dict]]:
    """generate()'s articles in batches, made by another process while this one loads the last ones.

    As a real bulk load reads its rows from another database or a file: the rate measured is
    the loading's, not that of the Python making up text (about 12,000 articles/s on one core).
    """
    context = multiprocessing.get_context("spawn")
    batches = context.Queue(maxsize=8)
    producer = context.Process(target=_produce, args=(count, source_ids, batches), daemon=True)
    producer.start()
    try:
        while (batch := batches.get()) is not None:
            yield batch
    finally:
        producer.kill()
        producer.join()


def _insert(connection: Connection, batch: list[dict]) -> None:
    if connection.dialect.name == "postgresql":
        with connection.connection.dbapi_connection.cursor() as cursor, \
                cursor.copy(f"COPY articles ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row([row[c] for c in COLUMNS])
    else:
        connection.execute(insert(Article.__table__), [row | {"authors": json.loads(row["authors"])} for row in batch])


def load(catalogue: Catalogue, count: int) -> float:
    """Bulk-load ``count`` synthetic articles, CHUNK a bulk load; the rate in articles per second.

    On PostgreSQL one bulk load of them all: only a load into an empty table builds the
    ``tsvector``'s GIN index once at its end (later ones maintain it row by row, 0.3 ms an article).
    """
    source_ids = [catalogue.source_id(f"source-{i:02d}") for i in range(SOURCES)]
    chunk = count if catalogue.engine.dialect.name == "postgresql" else CHUNK
    started = time.perf_counter()
    batches = _generated(count, source_ids)
    loaded = 0
    for first in batches:  # a bulk load per chunk, until the batches run out
        with bulk_load(catalogue.engine) as connection:
            for batch in itertools.chain([first], itertools.islice(batches, -(-chunk // BATCH) - 1)):
                _insert(connection, batch)
                loaded += len(batch)
                _progress(loaded, count, started)
    print(f"  loaded in {time.perf_counter() - started:,.0f} s; analyzing", flush=True)
    if catalogue.engine.dialect.name == "postgresql":
        with catalogue.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # Every table, the count tables too, as autovacuum would after a load: until their pages are
            # marked all-visible, the chart's rows are read by a sequential scan and a sort (32 ms at 1M,
            # against 4 ms for the index-only scan in the order wanted).
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with catalogue.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return count / (time.perf_counter() - started)


def _progress(loaded: int, count: int, started: float) -> None:
    if loaded % 50_000 == 0 or loaded == count:
        print(f"  loaded {loaded:,}/{count:,} ({loaded / (time.perf_counter() - started):,.0f}/s)", flush=True)


def timed(function: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``runs`` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def measure(catalogue: Catalogue, runs: int) -> dict[str, object]:
    """Latencies of the searches, facets and export the issue asks about."""
    rng = random.Random(SEED + 1)
    with catalogue.session() as session:
        sources = list(session.scalars(select(SourceRow.name).order_by(SourceRow.name)))

    def filtered(text_: str, sort: str | None = None) -> Callable[[], object]:
        def run() -> object:
            since = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 180))
            return search_page(catalogue, ArticleQuery(
                text=text_, source=rng.choice(sources[:5]), since=since, until=since + timedelta(days=180),
                sort=sort, limit=20))
        return run

    results: dict[str, object] = {}
    for label, text_ in (("one word", "interpol"), ("phrase", '"security council"')):
        results[f"{label}, source + 180 days, newest first"] = timed(filtered(text_, "published"), runs)
        results[f"{label}, source + 180 days, by relevance"] = timed(filtered(text_), runs)
    common = ArticleQuery(text=common_word(), sort="published", limit=20)
    second = ArticleQuery(text=common.text, sort="published", limit=20, cursor=search_page(catalogue, common).next_cursor)
    results["common word, everything, newest first"] = timed(lambda: search_page(catalogue, common), runs)
    results["common word, newest first, 2nd page"] = timed(lambda: search_page(catalogue, second), runs)
    results["facets of a one-word search"] = timed(lambda: facet_counts(catalogue, ArticleQuery(text="interpol")),
                                                   max(3, runs // 5))
    results["facets of everything"] = timed(lambda: facet_counts(catalogue, ArticleQuery()), max(3, runs // 2))

    def source_facets() -> object:
        since = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 180))
        return facet_counts(catalogue, ArticleQuery(source=rng.choice(sources[:5]), since=since,
                                                    until=since + timedelta(days=180)))
    results["facets of a source + 180 days"] = timed(source_facets, max(3, runs // 2))
    started, rows, size = time.perf_counter(), 0, 0
    for line in csv_lines(iter_articles(catalogue, ArticleQuery(limit=None))):
        size += len(line)
        rows += 1
    elapsed = time.perf_counter() - started
    results["CSV export"] = (rows - 1) / elapsed, size / elapsed / 1e6
    return results


def _ensure_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}):
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _drop(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


def bench(url: str, count: int, runs: int, reload: bool, load_only: bool) -> None:
    print(f"\n== {make_url(url).get_backend_name()}: {url}")
    if reload:
        _drop(url)
    if url.startswith("postgresql"):
        _ensure_postgres_database(url)
    catalogue = Catalogue(url)
    with catalogue.session() as session:
        present = session.scalar(select(func.count(Article.id))) or 0
    if present != count:
        if present:
            catalogue.close()
            _drop(url)
            if url.startswith("postgresql"):
                _ensure_postgres_database(url)
            catalogue = Catalogue(url)
        print(f"loading {count:,} articles")
        print(f"load rate: {load(catalogue, count):,.0f} articles/s")
    else:
        print(f"reusing {present:,} articles already loaded")
    if load_only:
        catalogue.close()
        return
    for label, (first, second) in measure(catalogue, runs).items():
        if label == "CSV export":
            print(f"{label:<48} {first:>10,.0f} rows/s  {second:>8,.1f} MB/s")
        else:
            print(f"{label:<48} median {first:>8.1f} ms   p95 {second:>8.1f} ms")
    catalogue.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--sqlite", type=Path, help="SQLite file to fill (skipped when not given)")
    parser.add_argument("--postgres", help="PostgreSQL URL to fill (skipped when not given)")
    parser.add_argument("--runs", type=int, default=40, help="timed repetitions of each search")
    parser.add_argument("--reload", action="store_true", help="drop and load again even when loaded")
    parser.add_argument("--load-only", action="store_true",
                        help="load and stop: load both databases at once, then measure one after the other")
    args = parser.parse_args()
    urls = ([f"sqlite:///{args.sqlite.resolve()}"] if args.sqlite else []) + ([args.postgres] if args.postgres else [])
    if not urls:
        parser.error("give --sqlite FILE and/or --postgres URL")
    for url in urls:
        bench(url, args.articles, args.runs, args.reload, args.load_only)


if __name__ == "__main__":
    main()
