"""WACZ export: the WARC files, their CDXJ index and the list of articles in one file.

A WACZ (Web Archive Collection Zipped, specification 1.1.1) opens as it is in
ReplayWeb.page and pywb. The layout:

- ``archive/<name>.warc.gz``: the finished WARC files, stored uncompressed in the zip
  (they are gzipped per record already) so readers reach a record by offset, with an
  HTTP range request into the zip;
- ``indexes/index.cdx.gz`` and ``indexes/index.idx``: the CDXJ index of those files, sorted,
  as cdxj-indexer writes it, in gzipped blocks of 1024 lines (stored, so each block is a
  range request away) with a secondary index of the blocks: py-wacz's form, which
  ReplayWeb.page reads block by block rather than loading the whole index on opening;
- ``pages/pages.jsonl``: the pages a reader starts from — each catalogued article at its
  latest capture, with its ``title`` and extracted ``text`` (ReplayWeb.page's page search
  reads both; the header says ``hasText``), id, url and ISO ``ts`` as py-wacz writes them;
- ``datapackage.json``: a Frictionless data package listing every file with its size and
  sha256 digest; ``datapackage-digest.json`` holds the digest of that, as py-wacz writes it.

Written by hand to the specification rather than with the ``wacz`` package, whose
dependencies (frictionless and some twenty more) the project does not otherwise need; the
tests check the result with ``wacz validate`` and open it in ReplayWeb.page. What py-wacz
0.6 (``wacz create --detect-pages``) writes beyond this: a ``recordDigest`` in each index
line, and pages for every HTML response a link led to, titled with their URL (ours are
the articles, titled and with their text).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import select

from archive.warc.cdxj import cdxj_line, compressed_cdxj
from archive.warc.reindex import captures_in
from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, Capture
from archive.warc.files import WARC_SUFFIX, finished_files, open_files

WACZ_VERSION = "1.1.1"
INDEX_PATH = "indexes/index.cdx.gz"
INDEX_BLOCKS_PATH = "indexes/index.idx"
PAGES_PATH = "pages/pages.jsonl"
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class WaczReport:
    """What an export wrote."""

    path: Path
    warc_files: list[str]
    captures: int  # lines of the CDXJ index
    pages: int  # articles listed in pages.jsonl
    size: int  # bytes of the WACZ file
    unfinished: list[str] = field(default_factory=list)  # *.open files left out: being written, or to recover


def export_wacz(catalogue: Catalogue, warc_dir: Path, out: Path, *, title: str | None = None) -> WaczReport:
    """Write the archive in ``warc_dir`` (finished files only) with its index and pages as a WACZ file.

    The file is written beside ``out`` under a temporary name and renamed when complete,
    so ``out`` is never a partial archive.
    """
    warc_dir, out = Path(warc_dir), Path(out)
    warcs = [p for p in finished_files(warc_dir) if p.name.endswith(WARC_SUFFIX)]
    if not warcs:
        raise FileNotFoundError(f"no finished WARC files in {warc_dir}: crawl first, or pass --data-dir")
    index = sorted(cdxj_line(info) for path in warcs for info in captures_in(path))
    pages = _pages(catalogue, {p.name for p in warcs})
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    partial = out.with_name(out.name + ".partial")
    resources = []
    with zipfile.ZipFile(partial, "w", allowZip64=True) as wacz:
        for path in warcs:
            resources.append(_add_file(wacz, f"archive/{path.name}", path))
        blocks, block_index = compressed_cdxj(index, Path(INDEX_PATH).name)
        resources.append(_add_bytes(wacz, INDEX_PATH, blocks, zipfile.ZIP_STORED))
        resources.append(_add_bytes(wacz, INDEX_BLOCKS_PATH, block_index.encode("utf-8")))
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True}
        lines = [json.dumps(line, ensure_ascii=False) + "\n" for line in (header, *pages)]
        resources.append(_add_bytes(wacz, PAGES_PATH, "".join(lines).encode("utf-8")))
        package = {
            "profile": "data-package",
            "resources": resources,
            "wacz_version": WACZ_VERSION,
            "title": title or "newsarchive export",
            "created": created,
            "modified": created,
            "software": f"newsarchive {_version()}",
        }
        package_bytes = json.dumps(package, indent=2).encode("utf-8")
        wacz.writestr("datapackage.json", package_bytes, zipfile.ZIP_DEFLATED)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        wacz.writestr("datapackage-digest.json", json.dumps(digest, indent=2), zipfile.ZIP_DEFLATED)
    os.replace(partial, out)
    return WaczReport(out, [p.name for p in warcs], len(index), len(pages), out.stat().st_size,
                      [p.name for p in open_files(warc_dir)])


def _pages(catalogue: Catalogue, warc_files: set[str]) -> list[dict[str, str]]:
    """Each article at its latest capture, if that capture is in the exported files."""
    with catalogue.session() as session:
        rows = session.execute(
            select(Article.id, Article.title, Article.text, Capture.url, Capture.timestamp, Capture.warc_file)
            .join(Capture, Capture.id == Article.capture_id).order_by(Article.id)
        ).all()
    return [
        {"id": f"article-{row.id}", "url": row.url, "ts": row.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "title": row.title or row.url, "text": row.text}
        for row in rows if row.warc_file in warc_files
    ]


def _add_file(wacz: zipfile.ZipFile, name: str, path: Path) -> dict[str, object]:
    """Store a WARC file uncompressed, hashing it on the way."""
    digest, size = hashlib.sha256(), 0
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = zipfile.ZIP_STORED
    # zip64 fields only when the size needs them (zipfile decides from info.file_size): ReplayWeb.page
    # 2.5 finds no record in a member whose local header carries them needlessly.
    with open(path, "rb") as source, wacz.open(info, "w") as target:
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return _resource(name, digest.hexdigest(), size)


def _add_bytes(wacz: zipfile.ZipFile, name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> dict[str, object]:
    wacz.writestr(name, data, method)
    return _resource(name, hashlib.sha256(data).hexdigest(), len(data))


def _resource(name: str, sha256: str, size: int) -> dict[str, object]:
    return {"name": Path(name).name.lower(), "path": name, "hash": f"sha256:{sha256}", "bytes": size}


def _version() -> str:
    try:
        return version("newsarchive")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"
