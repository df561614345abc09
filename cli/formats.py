"""How the CLI prints rows: a rich table for people, JSON, JSON lines and CSV for programs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from archive.query.exports import csv_lines, flat_cell, jsonl_lines

FORMATS = ("table", "json", "jsonl", "csv")


ISO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z?$")


def _table_cell(value: Any) -> str:
    """A cell for people: lists joined as in CSV, times to the second, in UTC."""
    return ISO_TIME.sub(r"\1 \2", str(flat_cell(value)))


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO, *,
               table_fields: Sequence[str], title: str | None = None) -> None:
    """Print ``rows`` in ``fmt``; the table shows ``table_fields``, machine formats every field."""
    if fmt == "jsonl":
        out.writelines(jsonl_lines(rows))
    elif fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        out.writelines(csv_lines(rows))  # streamed: `articles --all --format csv` exports any size
    else:
        table = Table(title=title, header_style="bold")
        for field in table_fields:
            table.add_column(field, overflow="fold", max_width=60 if field == "title" else None)
        for row in rows:
            table.add_row(*(_table_cell(row.get(field)) for field in table_fields))
        # Off a terminal (a pipe, a file) rich would fold at 80 columns: give rows room.
        Console(file=out, width=None if out.isatty() else 200).print(table)
