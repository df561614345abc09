"""archive.query.articles: one article in full, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from archive.query.articles import get_article
from tests.query_catalogue import DEMO_SOURCE, QueryCatalogue


def test_article_view_has_versions_captures_and_replay_links(qc: QueryCatalogue) -> None:
    crawled = next(a for a in qc.articles if a["source"] == DEMO_SOURCE)
    article = get_article(qc.catalogue, crawled["id"])
    assert article["versions"][0]["version"] == 1 and article["captures"]
    stamp = datetime.fromisoformat(article["captures"][-1]["timestamp"].rstrip("Z")).strftime("%Y%m%d%H%M%S")
    assert article["replay_url"] == f"/web/{stamp}/{article['captures'][-1]['url']}"
    assert get_article(qc.catalogue, crawled["url"])["id"] == crawled["id"]
    assert get_article(qc.catalogue, 10**30) is None
