"""`newsarchive articles` and `newsarchive stats` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.command import run_cli_in
from tests.query_catalogue import WIRE, QueryCatalogue

CONTRACT = {"id", "url", "canonical_url", "source", "title", "authors", "published", "language", "sitename",
            "text", "first_seen", "last_seen", "warc_file", "warc_offset", "content_hash", "duplicate_of"}


def test_jsonl_keeps_the_contract_and_unique_hides_duplicates(sqlite_qc: QueryCatalogue, tmp_path: Path) -> None:
    everything = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "--limit", "1000", "--format", "jsonl")
    assert everything.returncode == 0, everything.stderr
    rows = [json.loads(line) for line in everything.stdout.splitlines()]
    assert len(rows) == len(sqlite_qc.articles) and CONTRACT <= set(rows[0])
    assert any(row["duplicate_of"] for row in rows)
    unique = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "--unique", "--limit", "1000",
                         "--format", "jsonl", "--fields", "id,duplicate_of")
    kept = [json.loads(line) for line in unique.stdout.splitlines()]
    assert kept and all(set(row) == {"id", "duplicate_of"} and row["duplicate_of"] is None for row in kept)
    assert len(kept) == sum(row["duplicate_of"] is None for row in rows)


def test_csv_search_with_filters_fields_and_pages(sqlite_qc: QueryCatalogue, tmp_path: Path) -> None:
    result = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "harbour", "--source", WIRE, "--limit", "2",
                         "--fields", "id,title,authors", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["title"] for row in rows][0] == "Harbour traffic doubles"
    assert list(rows[0]) == ["id", "title", "authors"]
    cursor = result.stderr.split("--cursor ")[1].split()[0]
    rest = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "harbour", "--source", WIRE,
                       "--cursor", cursor, "--format", "jsonl", "--fields", "id")
    both = [int(row["id"]) for row in rows] + [json.loads(line)["id"] for line in rest.stdout.splitlines()]
    recorded = sqlite_qc.recorded
    assert sorted(both) == sorted([recorded.title_match, recorded.text_match, recorded.undated])


def test_bad_options_name_the_option(sqlite_qc: QueryCatalogue, tmp_path: Path) -> None:
    result = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "--since", "2026-02-01", "--until",
                         "2026-01-01", "--fields", "id")
    assert result.returncode == 2 and "--since" in result.stderr and "is after until" in result.stderr


def test_stats_counts_per_source_language_and_day(sqlite_qc: QueryCatalogue, tmp_path: Path) -> None:
    result = run_cli_in(tmp_path, "--db", sqlite_qc.url, "stats", "--lang", "ar", "--format", "json")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["total"] == sum(a["language"] == "ar" for a in sqlite_qc.articles)
    assert sum(day["count"] for day in counts["days"]) == counts["total"] - counts["undated"]
    table = run_cli_in(tmp_path, "--db", sqlite_qc.url, "stats")
    assert "per source" in table.stdout and "per language" in table.stdout and WIRE in table.stdout


def test_a_story_is_listed_by_articles_story_and_by_show(sqlite_qc: QueryCatalogue, tmp_path: Path) -> None:
    original, copy = sqlite_qc.recorded.original, sqlite_qc.recorded.copy
    copy_row = next(a for a in sqlite_qc.articles if a["id"] == copy)
    listed = run_cli_in(tmp_path, "--db", sqlite_qc.url, "articles", "--story", str(copy_row["story_id"]),
                        "--format", "jsonl", "--fields", "id,source,story_id")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(row["id"] for row in rows) == sorted([original, copy])
    shown = run_cli_in(tmp_path, "--db", sqlite_qc.url, "show", str(original))
    story = shown.stdout.split("The same story elsewhere (1):\n")[1].splitlines()[0].split()
    assert story[:3] == [str(copy), WIRE, "copy"], shown.stdout
