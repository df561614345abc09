"""Workers cataloguing the same article at the same moment leave one article, on PostgreSQL.

The moment is made, not hoped for: a transaction holding the articles table in SHARE mode
lets every worker read (no such article yet) and stops each at its INSERT; once all are
waiting there, it lets them go at once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text

from archive.catalogue.store import Catalogue
from archive.query.articles import get_article
from tests.archive.catalogue.test_store import BODY, OTHER, extracted

WORKERS = 3
CANONICAL = "https://courier.example/2026/11/02/harbour-budget.html"


def waiting_inserts(admin, count: int) -> None:  # type: ignore[no-untyped-def]
    """Return once ``count`` other sessions wait for a lock on the articles table (at most 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with admin.connect() as connection:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'articles'::regclass"))
        if waiting == count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{count} workers did not reach their INSERT together")


def test_workers_recording_one_article_at_once_leave_one_row_with_every_version(postgres_url: str) -> None:
    catalogues = [Catalogue(postgres_url) for _ in range(WORKERS)]
    for catalogue in catalogues:
        catalogue.source_id("courier")  # made beforehand: the race is about the article
    texts = [BODY, OTHER, BODY.replace("harbour", "port")]
    gate = create_engine(postgres_url)
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            with gate.connect() as holder:
                holder.execute(text("LOCK TABLE articles IN SHARE MODE"))
                futures = [pool.submit(catalogue.record_article, "courier",
                                       f"{CANONICAL}?utm_source=w{n}",
                                       extracted(texts[n], canonical=CANONICAL))
                           for n, catalogue in enumerate(catalogues)]
                waiting_inserts(gate, WORKERS)
                holder.commit()  # all at once
            outcomes = [future.result(timeout=60) for future in futures]
        with gate.connect() as connection:
            rows = connection.execute(text("SELECT id FROM articles WHERE canonical_url = :url"),
                                      {"url": CANONICAL}).scalars().all()
    finally:
        gate.dispose()

    assert len(rows) == 1
    assert sorted(o.status for o in outcomes) == ["new", "updated", "updated"]
    assert {o.article_id for o in outcomes} == set(rows)
    article = get_article(catalogues[0], rows[0])
    for catalogue in catalogues:
        catalogue.close()
    assert [v["version"] for v in article["versions"]] == [1, 2, 3]
    assert {v["text"] for v in article["versions"]} == set(texts)
    assert {f"{CANONICAL}?utm_source=w{n}" for n in range(WORKERS)} <= set(article["urls"])
