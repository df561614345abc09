"""`newsarchive demo` on a fresh data dir: the README's main job."""

from __future__ import annotations

import json
from pathlib import Path

from tests.command import run_cli

DEMO_ARTICLES = 9  # 3 French, 3 Arabic, 3 English articles in newsarchive/demo_site


def test_demo_crawls_the_example_site_offline_and_says_what_to_do_next(tmp_path: Path) -> None:
    result = run_cli("demo", "--port", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{DEMO_ARTICLES} articles catalogued" in result.stdout
    assert "newsarchive articles" in result.stdout and "newsarchive show" in result.stdout
    assert list((tmp_path / "data" / "warcs").glob("maghreb-courier-*.warc.gz"))

    rows = [json.loads(line) for line in run_cli("articles", "--format", "jsonl", cwd=tmp_path).stdout.splitlines()]
    assert sorted({row["language"] for row in rows}) == ["ar", "en", "fr"]
    assert all(row["title"] and row["published"] and len(row["text"]) > 500 for row in rows)
    # the windows-1256 and ISO-8859-1 pages come out as proper Unicode
    assert not any("Ã" in row["text"] or "\ufffd" in row["text"] for row in rows)
    assert sum("\u0600" <= ch <= "\u06ff" for row in rows if row["language"] == "ar" for ch in row["text"]) > 1000
