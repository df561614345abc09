"""Rows (articles, runs) as CSV and JSON lines, written row by row so an export of any size streams."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from archive.query.search import project


def jsonl_lines(rows: Iterable[dict[str, Any]], fields: Sequence[str] | None = None) -> Iterator[str]:
    """One JSON object a line, with ``fields`` only when given."""
    for row in rows:
        yield json.dumps(project(row, fields), ensure_ascii=False) + "\n"


def flat_cell(value: Any) -> Any:
    """A value for one cell of a table: None empty, a list or counts by kind joined, others as they are."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, dict):  # counts by kind: "http_404: 2; TimeoutError: 1"
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as written: lists and counts joined, formulas defused.

    A page's title could start with ``=HYPERLINK(...)``; a leading apostrophe keeps a
    spreadsheet from running it (OWASP's advice on CSV injection).
    """
    value = flat_cell(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]], fields: Sequence[str] | None = None) -> Iterator[str]:
    """CSV: a header (``fields``, else the first row's keys), then a line per row as it comes."""
    rows = iter(rows)
    first = next(rows, None)
    if fields is None and first is None:
        return
    columns = list(fields or first)  # type: ignore[arg-type]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in itertools.chain([first] if first is not None else [], rows):
        writer.writerow([csv_cell(row.get(name)) for name in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header alone when there was no row
