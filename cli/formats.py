"""How the CLI prints rows: a rich table for people, JSON, JSON lines and CSV for programs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from archive.query.exports import csv_lines, flat_cell, jsonl_lines

FORMATS = ("table", "json", "jsonl", "csv")


ISO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(\.\d+)?Z?$")
# A table's header where the field's name is much wider than its values (machine formats keep
# the names), so that a table of runs or articles fits an 80-column terminal.
TABLE_LABELS = {
    "articles_new": "new", "articles_updated": "updated", "articles_duplicate": "dup", "duplicate_of": "dup of",
    "language": "lang", "not_modified": "304s", "not_articles": "no art.", "next_run": "next", "last_run": "last run",
    "last_status": "status", "last_pages": "pages", "last_articles_new": "new", "last_errors": "errors",
}
# Columns of short values (numbers, times, codes), never wrapped: when a table is wider than the
# terminal, the prose columns (titles, names, messages) fold instead of every column shrinking.
NARROW_FIELDS = frozenset({
    "id", "published", "language", "status", "started", "finished", "pages", "not_modified", "not_articles", "bytes",
    "articles_new", "articles_updated", "articles_duplicate", "errors", "duplicate_of", "first_seen",
    "last_seen", "next_run", "last_run", "last_status", "last_pages", "last_articles_new", "last_errors",
    "count", "day",
})


def _table_cell(value: Any) -> str:
    """A cell for people: lists joined as in CSV, times to the minute, in UTC."""
    return ISO_TIME.sub(r"\1 \2", str(flat_cell(value)))


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO, *,
               table_fields: Sequence[str], title: str | None = None) -> int:
    """Print ``rows`` in ``fmt``; the table shows ``table_fields``, machine formats every field.

    The number of rows. No row prints no table (the caller says so in words); JSON prints ``[]``.
    """
    counted = _Counted(rows)
    if fmt == "jsonl":
        out.writelines(jsonl_lines(counted))
    elif fmt == "json":
        json.dump(list(counted), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        out.writelines(csv_lines(counted))  # streamed: `articles --all --format csv` exports any size
    else:
        table = Table(title=title, header_style="bold")
        for field in table_fields:
            table.add_column(TABLE_LABELS.get(field, field), overflow="fold", no_wrap=field in NARROW_FIELDS,
                             max_width=60 if field == "title" else None)
        for row in counted:
            table.add_row(*(_table_cell(row.get(field)) for field in table_fields))
        if counted.count:
            # Off a terminal (a pipe, a file) rich would fold at 80 columns: give rows room.
            Console(file=out, width=None if out.isatty() else 200).print(table)
    return counted.count


class _Counted:
    """An iterable that counts what has been taken from it."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.count += 1
            yield row
