"""The migrations: what they froze still agrees with the code that queries what they made."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from archive.query import fulltext

VERSIONS = Path(__file__).resolve().parents[3] / "archive" / "catalogue" / "migrations" / "versions"


def migration(name: str) -> ModuleType:
    """A migration script as a module (its file name starts with a digit: no import statement reaches it)."""
    spec = importlib.util.spec_from_file_location(f"migration_{name}", VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_indexes_fold_arabic_as_searches_do() -> None:
    # 0002 indexes text folded with its frozen copy; searches fold with the live one. A new
    # fold needs a migration that re-indexes with it, and this test pointed at that migration.
    indexed = migration("0002_fulltext")
    assert indexed.ARABIC_FOLDS == fulltext.ARABIC_FOLDS
    assert indexed.pg_translate_args() == fulltext.pg_translate_args()
