"""Our WARC files, index and WACZ as the reference tools read them: pywb, cdxj-indexer, py-wacz.

The tools live in their own venv (``.venv-pywb``, made by scripts/test): pywb pins
libraries that would break Scrapy in the project's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import time
import zipfile
from collections.abc import Iterable, Iterator

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from archive.wayback import timestamp14
from archive.catalogue.store import Catalogue
from archive.catalogue.models import Article, Capture
from archive.warc.reindex import index_warcs
from archive.web.cdx import cdx_route
from tests.command import run_cli_in
from tests.replay_archive import ReplayArchive, free_port, peer_tool
from tests.replay_site import COPY_OF_LEAD, STORY, STORY_MARKER

COLLECTION = "archive"


def raw_get(url: str) -> tuple[int, bytes]:
    """Status and body as sent (Content-Encoding not undone), following redirects within the server."""
    with httpx.Client(follow_redirects=True, timeout=30) as client, \
            client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        return response.status_code, b"".join(response.iter_raw())


@pytest.fixture(scope="module")
def pywb(replay_archive: ReplayArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pywb's ``wayback`` over a collection made of our WARC files with ``wb-manager``; yields its collection URL."""
    root = tmp_path_factory.mktemp("pywb")
    warcs = sorted(str(p) for p in replay_archive.warc_dir.glob("*.warc.gz"))
    for args in (["init", COLLECTION], ["add", COLLECTION, *warcs]):
        made = subprocess.run([peer_tool("wb-manager"), *args], cwd=root, capture_output=True, text=True, check=False)
        assert made.returncode == 0, made.stderr
    # The index cdxj-indexer writes (ours, byte for byte: test_our_cdxj_index_is_cdxj_indexers) instead of
    # pywb's own indexer's, which drops "sha1:" from digests and the status of revisits: so the CDX API
    # comparison below compares query answers, not two indexers.
    index = root / "collections" / COLLECTION / "indexes" / "index.cdxj"
    assert index.is_file()
    index.write_text(subprocess.run([peer_tool("cdxj-indexer"), "--sort", *warcs], capture_output=True, text=True,
                                    check=True).stdout)
    port = free_port()
    with open(root / "wayback.log", "wb") as log:
        server = subprocess.Popen([peer_tool("wayback"), "--port", str(port), "--bind", "127.0.0.1"], cwd=root,
                                  stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"pywb did not start: {(root / 'wayback.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield f"{base}/{COLLECTION}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_pywb_serves_our_captures_with_the_payload_we_serve(
        pywb: str, replay_server: str, replay_archive: ReplayArchive) -> None:
    revisit_image = next(c for path in ("/media/lead.png", COPY_OF_LEAD)
                         for c in replay_archive.captures(path)[:1] if c.record_type == "revisit")
    cases = [
        (replay_archive.first, replay_archive.url(STORY)),  # a response record, gzip-encoded
        (replay_archive.second, replay_archive.url(STORY)),  # a revisit of it
        (timestamp14(revisit_image.timestamp), revisit_image.url),  # a revisit of another URL's image
        (replay_archive.first, replay_archive.site.cdn_url + "/cdn/photo.png"),
    ]
    for timestamp, url in cases:
        theirs = raw_get(f"{pywb}/{timestamp}id_/{url}")
        ours = raw_get(f"{replay_server}/web/{timestamp}id_/{url}")
        assert theirs[0] == ours[0] == 200, url
        assert theirs[1] == ours[1], url


def test_pywb_replays_the_article(pywb: str, replay_archive: ReplayArchive) -> None:
    # mp_: the page itself, not pywb's frame around it
    response = httpx.get(f"{pywb}/{replay_archive.first}mp_/{replay_archive.url(STORY)}", follow_redirects=True,
                         timeout=30)
    assert response.status_code == 200 and STORY_MARKER in response.text


def test_our_cdxj_index_is_cdxj_indexers(replay_archive: ReplayArchive) -> None:
    ours = replay_archive.workdir / "ours.cdxj"
    result = run_cli_in(replay_archive.workdir, "index", "--cdxj", str(ours))
    assert result.returncode == 0, result.stderr
    # the crawl indexed every record as the WARC files say: rebuilding changes nothing
    assert "0 captures added, 0 corrected, 0 removed" in result.stderr
    warcs = sorted(str(p) for p in replay_archive.warc_dir.glob("*.warc.gz"))
    theirs = subprocess.run([peer_tool("cdxj-indexer"), "--sort", *warcs], capture_output=True, text=True,
                            check=True).stdout
    assert ours.read_text(encoding="utf-8") == theirs  # urlkeys, timestamps, offsets, lengths, digests...
    catalogue = Catalogue(replay_archive.db_url)
    with catalogue.session() as session:
        assert len(theirs.splitlines()) == session.scalar(select(func.count(Capture.id)))
    catalogue.close()


def test_wacz_export_is_valid_for_py_wacz(replay_archive: ReplayArchive) -> None:
    out = replay_archive.workdir / "export.wacz"
    result = run_cli_in(replay_archive.workdir, "export", "--wacz", str(out))
    assert result.returncode == 0, result.stderr
    validated = subprocess.run([peer_tool("wacz"), "validate", "-f", str(out)], capture_output=True, text=True,
                               check=False)
    assert validated.returncode == 0 and "is valid" in validated.stdout, validated.stdout + validated.stderr
    with zipfile.ZipFile(out) as wacz:
        names = wacz.namelist()
        warcs = [info for info in wacz.infolist() if info.filename.startswith("archive/")]
        assert {info.filename for info in warcs} == {
            f"archive/{p.name}" for p in replay_archive.warc_dir.glob("*.warc.gz")}
        assert all(info.compress_type == zipfile.ZIP_STORED for info in warcs)  # readable by offset
        assert wacz.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED  # blocks by offset too
        assert {"indexes/index.idx", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"} <= set(names)
        blocks, block_index = wacz.read("indexes/index.cdx.gz"), wacz.read("indexes/index.idx").decode()
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").decode().splitlines()]
    warc_paths = sorted(str(p) for p in replay_archive.warc_dir.glob("*.warc.gz"))
    theirs = subprocess.run([peer_tool("cdxj-indexer"), "--sort", *warc_paths], capture_output=True, text=True,
                            check=True).stdout
    assert gzip.decompress(blocks).decode() == theirs  # every block, concatenated: cdxj-indexer's index
    meta, *entries = block_index.splitlines()
    assert meta == '!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}'
    for entry in entries:  # each names a whole gzip member, starting with the line it is keyed by
        key, where = entry.split(" {", 1)
        where = json.loads("{" + where)
        member = blocks[where["offset"]:where["offset"] + where["length"]]
        assert where["digest"] == "sha256:" + hashlib.sha256(member).hexdigest()
        assert gzip.decompress(member).decode().startswith(key + " ")
    header, *listed = pages
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    catalogue = Catalogue(replay_archive.db_url)
    with catalogue.session() as session:
        articles = {a.title: a.text for a in session.scalars(select(Article))}
    catalogue.close()
    assert {page["title"]: page["text"] for page in listed} == articles  # ReplayWeb.page searches both
    assert replay_archive.url(STORY) in {page["url"] for page in listed}


# --- the CDX server API against pywb's -----------------------------------------------------
COMPARED = ("urlkey", "timestamp", "url", "status", "digest")  # what a capture is, whoever indexed it
PAGE_SIZE = 7  # captures per page in the paging queries: several pages of the host


def cdx_queries(archive: ReplayArchive) -> list[dict[str, str]]:
    """Each match type, time bounds, limit, both sorts, every kind of filter, collapsing, fields."""
    site = archive.site.base_url
    story, host = archive.url(STORY), {"url": site + "/", "matchType": "host"}
    return [
        {"url": story},
        {"url": site + "/static/*"},
        {"url": site + "/media/", "matchType": "prefix"},
        host,
        {"url": site.split("://", 1)[1], "matchType": "domain"},
        {"url": "*." + site.split("://", 1)[1]},
        {"url": site + "/news/*", "from": archive.second},
        {"url": site + "/news/*", "to": archive.first},
        {"url": site + "/news/*", "from": archive.first[:8], "to": archive.second[:8]},
        {**host, "limit": "5"},
        {"url": story, "sort": "reverse"},
        {**host, "sort": "reverse", "limit": "4"},
        {"url": story, "sort": "closest", "closest": archive.second, "limit": "1"},
        {"url": story, "closest": archive.first},
        {**host, "closest": archive.second, "limit": "6"},
        {**host, "filter": "=mime:text/html"},
        {**host, "filter": "!=status:200"},
        {**host, "filter": r"~url:.*\.png$"},
        {**host, "filter": "mime:css"},
        {**host, "filter": ["!mime:image", "!~status:3"]},
        {**host, "filter": "story"},  # no field: the whole line
        {**host, "collapseTime": "12"},
        {**host, "fl": "urlkey,timestamp,url,status,digest"},
    ]


def pywb_cdx(pywb: str, params: dict[str, object]) -> list[dict[str, str]]:
    response = httpx.get(f"{pywb}/cdx", params={**params, "output": "json"}, timeout=30)
    assert response.status_code == 200, (params, response.text)
    return [json.loads(line) for line in response.text.splitlines() if line]


def captures(rows: Iterable[dict[str, str]]) -> list[tuple[str, ...]]:
    return [tuple(row.get(name, "") for name in COMPARED) for row in rows]


def test_cdx_api_answers_as_pywbs_does(pywb: str, replay_archive: ReplayArchive, catalogue_url: str) -> None:
    catalogue = Catalogue(catalogue_url)  # a new catalogue on each database, built from the WARC files alone
    index_warcs(catalogue, replay_archive.warc_dir)
    client = TestClient(Starlette(routes=[cdx_route(catalogue)]))

    def ours(params: dict[str, object], output: str = "json") -> httpx.Response:
        response = client.get("/cdx", params={**params, "output": output})
        assert response.status_code == 200, (params, response.text)
        return response

    try:
        differ = []
        for params in cdx_queries(replay_archive):
            theirs = captures(pywb_cdx(pywb, params))
            assert theirs, f"pywb found nothing for {params}: not a comparison"
            mine = captures([json.loads(line) for line in ours(params).text.splitlines()])
            if mine != theirs:
                differ.append((params, mine, theirs))
        assert differ == []

        host = {"url": replay_archive.site.base_url + "/", "matchType": "host"}
        everything = pywb_cdx(pywb, host)
        # output=text with fields: the values space-separated, as pywb writes them
        fields = {**host, "fl": "urlkey,timestamp,url,status,digest"}
        text = httpx.get(f"{pywb}/cdx", params={**fields, "output": "text"}, timeout=30).text
        assert ours(fields, "text").text == text
        # paging: pywb pages only ZipNum indexes; our pages (of captures) put together are its whole answer
        count = ours({**host, "pageSize": str(PAGE_SIZE), "showNumPages": "true"}).json()
        assert count == {"pages": -(-len(everything) // PAGE_SIZE), "pageSize": PAGE_SIZE, "blocks": len(everything)}
        pages = [json.loads(line) for page in range(count["pages"])
                 for line in ours({**host, "pageSize": str(PAGE_SIZE), "page": str(page)}).text.splitlines()]
        assert captures(pages) == captures(everything)
        # collapse=field[:n] (the Wayback CDX server's; pywb has only collapseTime): the first of each run
        collapsed = [row for n, row in enumerate(everything) if n == 0 or row["urlkey"] != everything[n - 1]["urlkey"]]
        assert captures(json.loads(line) for line in ours({**host, "collapse": "urlkey"}).text.splitlines()) == \
            captures(collapsed)
        assert len(collapsed) < len(everything)
    finally:
        catalogue.close()
