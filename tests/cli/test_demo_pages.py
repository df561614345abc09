"""The demo newspaper rendered from cli/demo_site/newspaper.toml: the same site each time."""

from __future__ import annotations

import tomllib
from pathlib import Path

from lxml import html

from cli.demo_pages import DEMO_SITE, NEWSPAPER, demo_site_files, render_demo_site


def test_two_renderings_are_the_same_bytes_and_dates(tmp_path: Path) -> None:
    # a second `newsarchive demo` must get 304s for what did not change: same ETag, same Last-Modified
    first, second = render_demo_site(tmp_path / "a"), render_demo_site(tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).stat().st_mtime == (second / name).stat().st_mtime, name


def test_every_article_of_the_data_file_is_a_page_in_its_charset() -> None:
    paper = tomllib.loads((DEMO_SITE / NEWSPAPER).read_text(encoding="utf-8"))
    files = demo_site_files()
    for article in paper["article"]:
        charset = article.get("charset", "utf-8")
        text = files[article["path"]].decode(charset)  # strict: the page is in the charset it declares
        assert f'<meta charset="{charset}">' in text
        page = html.fromstring(text)
        assert page.findtext(".//h1") == article["title"]
        assert [p.text_content() for p in page.find_class("story-body")[0]] == article["body"]
        if charset != "utf-8":
            assert f"charset={charset}" in files["/_site.toml"].decode()
    amp_copies = [path for path in files if path.endswith(".amp.html")]
    assert len(amp_copies) == sum(a.get("amp", False) for a in paper["article"]) > 0
