"""The crawler's view of a page from its lxml tree: the requisites replay will ask for, the links and feeds to follow."""

from __future__ import annotations

from pathlib import Path

from trafilatura.utils import load_html

from archive.extract.article import decode_html
from archive.web.page_links import page_links
from archive.web.rewrite import embedded_urls

MARKUP = (
    '<html><head><base href="/p/"><link rel=stylesheet href="/s.css"><link rel=canonical href="/c">'
    '<link rel=alternate type="application/rss+xml" href="/rss.xml"><link rel=preload as=font href="f.woff2">'
    '<style>b{background:url(bg.png)}</style></head><body><a href="/next">n</a><a href="story.html#top">s</a>'
    '<img src="/a.png" srcset="/a2.png 2x, /a3.png 3x"><img data-src="/lazy.png"><div style="background:url(d.png)">'
    '<picture><source srcset="/w.webp"></picture><iframe src="/frame.html"></iframe>'
    '<script src="/app.js"></script><a href="/a.png">same image, linked</a><a href="mailto:x@y">m</a></body></html>'
)


def test_embeds_links_and_feeds_of_a_page_against_its_base() -> None:
    found = page_links(load_html(MARKUP), "http://news.example/section/")
    assert found.embeds == [
        "http://news.example/s.css", "http://news.example/p/f.woff2", "http://news.example/p/bg.png",
        "http://news.example/a.png", "http://news.example/a2.png", "http://news.example/a3.png",
        "http://news.example/lazy.png", "http://news.example/p/d.png", "http://news.example/w.webp",
        "http://news.example/frame.html", "http://news.example/app.js"]
    assert found.links == ["http://news.example/next", "http://news.example/p/story.html#top",
                           "http://news.example/a.png"]
    assert found.feeds == ["http://news.example/rss.xml"]
    assert set(found.embeds) == set(embedded_urls(MARKUP, "http://news.example/section/"))


def test_the_requisites_of_real_pages_are_those_replay_rewrites_as_embeds(datasets_dir: Path) -> None:
    pages = sorted(datasets_dir.rglob("*.html"))
    same = 0
    for page in pages:
        url = f"http://news.example/{page.parent.name}/{page.name}"
        text = decode_html(page.read_bytes(), "text/html")
        crawled, rewritten = set(page_links(load_html(text), url).embeds), set(embedded_urls(text, url))
        assert crawled <= rewritten, page.name
        same += crawled == rewritten
    # The rewriter takes the last of an attribute written twice in one tag, browsers and lxml
    # the first: one dev page has <iframe src="javascript:void(0)" ... src="./saved_resource.html">.
    assert same >= len(pages) - 1
