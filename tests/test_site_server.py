"""The local site server: a real server on port 0, asked with urllib as a crawler would."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from tests.site_server import SiteConfigError, SiteRules, SiteServer, serve_site
from tests.sites import fetch

ARABIC = "<html><head><meta charset=windows-1256></head><body><p>محطة الطاقة الشمسية</p></body></html>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "news").mkdir()
    (tmp_path / "index.html").write_text('<a href="{{BASE}}/news/">news</a>', encoding="utf-8")
    (tmp_path / "news" / "index.html").write_text("<h1>Section</h1>", encoding="utf-8")
    (tmp_path / "rss.xml").write_text(
        '<?xml version="1.0"?>\n<rss version="2.0"><link>{{BASE}}/</link></rss>'
    )
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n{{BASE}}")
    (tmp_path / "ar.html").write_bytes(ARABIC.encode("cp1256"))
    (tmp_path / "fr.html").write_bytes("<p>Été à Aïn {{BASE}}</p>".encode("iso-8859-1"))
    (tmp_path / "_site.toml").write_text(
        '[redirects]\n"/latest" = "/news/"\n"/tmp" = { to = "/ar.html", status = 302 }\n'
        '[status]\n"/gone.html" = 410\n'
        '[headers."/ar.html"]\nContent-Type = "text/html; charset=windows-1256"\nX-Edition = "ar"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_base_placeholder_is_replaced_in_text_files_only(site: Path) -> None:
    with serve_site(site) as base:
        assert base.startswith("http://127.0.0.1:")
        status, headers, body = fetch(base + "/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert body == f'<a href="{base}/news/">news</a>'.encode()
        status, headers, body = fetch(base + "/rss.xml")
        assert headers["Content-Type"] == "application/rss+xml"
        assert f"<link>{base}/</link>".encode() in body
        _, headers, body = fetch(base + "/logo.png")
        assert headers["Content-Type"] == "image/png" and body.endswith(b"{{BASE}}")


def test_other_encodings_are_served_byte_for_byte(site: Path) -> None:
    with serve_site(site) as base:
        _, headers, body = fetch(base + "/ar.html")
        assert body == ARABIC.encode("cp1256")
        assert headers["Content-Type"] == "text/html; charset=windows-1256"
        assert headers["X-Edition"] == "ar"
        _, _, body = fetch(base + "/fr.html")
        assert body == f"<p>Été à Aïn {base}</p>".encode("iso-8859-1")


def test_gzip_when_asked_for_text(site: Path) -> None:
    with serve_site(site) as base:
        _, plain_headers, plain = fetch(base + "/ar.html")
        _, headers, body = fetch(base + "/ar.html", Accept_Encoding="gzip, deflate")
        assert headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == plain and int(headers["Content-Length"]) == len(body)
        assert headers["ETag"] != plain_headers["ETag"]
        _, headers, _ = fetch(base + "/logo.png", Accept_Encoding="gzip")
        assert "Content-Encoding" not in headers
        _, headers, _ = fetch(base + "/", Accept_Encoding="gzip;q=0, identity")
        assert "Content-Encoding" not in headers


def test_conditional_get_answers_304_until_the_file_changes(site: Path) -> None:
    with serve_site(site) as base:
        _, headers, _ = fetch(base + "/news/")
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        status, headers, body = fetch(base + "/news/", If_None_Match=etag)
        assert (status, body) == (304, b"") and headers["ETag"] == etag
        assert fetch(base + "/news/", If_Modified_Since=last_modified)[0] == 304
        assert fetch(base + "/news/", If_None_Match='"other"', If_Modified_Since=last_modified)[0] == 200

        page = site / "news" / "index.html"
        page.write_text("<h1>Section, corrected</h1>", encoding="utf-8")
        later = time.time() + 10
        os.utime(page, (later, later))
        status, headers, body = fetch(base + "/news/", If_None_Match=etag)
        assert (status, body) == (200, b"<h1>Section, corrected</h1>")
        assert fetch(base + "/news/", If_Modified_Since=last_modified)[0] == 200


def test_redirects_statuses_and_missing_pages(site: Path) -> None:
    with serve_site(site) as base:
        status, headers, _ = fetch(base + "/latest")
        assert (status, headers["Location"]) == (301, base + "/news/")
        status, headers, _ = fetch(base + "/tmp?x=1")
        assert (status, headers["Location"]) == (302, base + "/ar.html")
        status, headers, _ = fetch(base + "/news")
        assert (status, headers["Location"]) == (301, base + "/news/")
        assert fetch(base + "/gone.html")[0] == 410
        status, headers, body = fetch(base + "/nowhere.html")
        assert status == 404 and headers["Content-Type"].startswith("text/html") and b"/nowhere.html" in body
        assert fetch(base + "/_site.toml")[0] == 404
        assert fetch(base + "/../" + site.name + "/index.html")[0] in (400, 404)


def test_head_and_request_log(site: Path) -> None:
    with SiteServer(site) as server:
        status, headers, body = fetch(server.base_url + "/rss.xml", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
        fetch(server.base_url + "/index.html?utm_source=x")
        fetch(server.base_url + "/missing")
    assert server.paths == ["/rss.xml", "/index.html?utm_source=x", "/missing"]
    assert [(e.method, e.status) for e in server.log] == [("HEAD", 200), ("GET", 200), ("GET", 404)]


def test_site_rules_errors_name_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "_site.toml"
    config.write_text('[status]\n"/x" = 302\n')
    with pytest.raises(SiteConfigError, match=r"_site.toml: status.'/x'.*use \[redirects\]"):
        SiteRules.load(config)
    config.write_text('[redirect]\n"/x" = "/y"\n')
    with pytest.raises(SiteConfigError, match="redirect: unknown table"):
        SiteRules.load(config)
    with pytest.raises(SiteConfigError):
        SiteServer(tmp_path).start()


def test_a_site_config_broken_while_serving_answers_500(site: Path) -> None:
    with serve_site(site) as base:
        (site / "_site.toml").write_text("[status\n")
        status, _, body = fetch(base + "/")
        assert status == 500 and b"not valid TOML" in body
