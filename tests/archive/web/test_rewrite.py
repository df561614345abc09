"""HTML and CSS rewriting: every URL into the archive, every other byte as it was."""

from __future__ import annotations

import re

from archive.extract.decoding import decode_document, encode_document
from archive.web.rewrite import (
    UrlRewriter,
    css_urls,
    embedded_urls,
    rewrite_css,
    rewrite_html,
)

PAGE_URL = "http://news.example/world/2026/story.html"
TS = "20260105120000"
REWRITER = UrlRewriter(TS, PAGE_URL)


def rewritten(markup: str, banner: str = "") -> str:
    return rewrite_html(markup, REWRITER, banner)


def test_only_url_values_change_everything_else_is_kept_byte_for_byte() -> None:
    markup = (
        "<!DOCTYPE html>\n<!-- a comment with <img src='/no.png'> inside -->\n"
        "<HTML><Head><TITLE>A &amp; B <img src=/title.png></TITLE></Head>\n"
        "<BODY class=main data-x='1'>\n<IMG SRC=/a.png ALT='It&#39;s &eacute;t&eacute;' width=10>"
        "<p>Text with &lt;tags&gt; and a stray < sign & an ampersand</p>\n"
        "<script>if (a < b && c) { document.write('<a href=\"/x\">x</a>'); }</script>\n"
        "<textarea><a href=/inside-textarea></textarea>\n<br/><input disabled>\n</BODY></HTML>\n"
    )
    out = rewritten(markup)
    assert out == markup.replace("SRC=/a.png", f'SRC="/web/{TS}im_/http://news.example/a.png"')


def test_each_kind_of_reference_gets_its_modifier() -> None:
    markup = (
        '<link rel="stylesheet" href="/s.css"><link rel="preload" as="font" href="f.woff2">'
        '<link rel="icon" href="/i.ico"><link rel="canonical" href="/c"><script src="app.js"></script>'
        '<a href="next.html">n</a><img src="i.png"><iframe src="/frame.html"></iframe>'
        '<video src="v.mp4" poster="p.jpg"></video><form action="/search"></form>'
        '<object data="o.svg"></object><embed src="e.swf"><source src="s.webm">'
    )
    out = rewritten(markup)
    base = "http://news.example"
    for expected in (
        f"/web/{TS}cs_/{base}/s.css", f"/web/{TS}oe_/{base}/world/2026/f.woff2", f"/web/{TS}im_/{base}/i.ico",
        f'"/web/{TS}/{base}/c"', f"/web/{TS}js_/{base}/world/2026/app.js", f'"/web/{TS}/{base}/world/2026/next.html"',
        f"/web/{TS}im_/{base}/world/2026/i.png", f"/web/{TS}if_/{base}/frame.html",
        f"/web/{TS}oe_/{base}/world/2026/v.mp4", f"/web/{TS}im_/{base}/world/2026/p.jpg",
        f'"/web/{TS}/{base}/search"', f"/web/{TS}oe_/{base}/world/2026/o.svg",
        f"/web/{TS}oe_/{base}/world/2026/e.swf", f"/web/{TS}oe_/{base}/world/2026/s.webm",
    ):
        assert expected in out


def test_srcset_candidates_are_rewritten_descriptors_and_commas_in_urls_kept() -> None:
    out = rewritten('<img srcset="/img/w_100,h_50/a.jpg 1x,  /b.jpg 2x, c.jpg 480w,d.jpg">')
    base = f"/web/{TS}im_/http://news.example"
    assert out == (f'<img srcset="{base}/img/w_100,h_50/a.jpg 1x,  {base}/b.jpg 2x, '
                   f'{base}/world/2026/c.jpg 480w,{base}/world/2026/d.jpg">')


def test_absolute_scheme_relative_and_other_sites_links_all_stay_in_the_archive() -> None:
    out = rewritten('<a href="https://other.example/p?q=1">x</a><a href="//cdn.example/y">y</a>')
    assert f'href="/web/{TS}/https://other.example/p?q=1"' in out
    assert f'href="/web/{TS}/http://cdn.example/y"' in out


def test_non_urls_are_left_alone() -> None:
    markup = ('<a href="#top">t</a><a href="mailto:a@b.example">m</a><a href="javascript:void(0)">j</a>'
              '<img src="data:image/gif;base64,R0lGOD"><a href="">e</a><a href="tel:+212">p</a>')
    assert rewritten(markup) == markup


def test_entities_in_attribute_values_keep_their_meaning() -> None:
    out = rewritten('<a href="list?a=1&amp;b=2&copy=3&#x26;d=4">x</a>')
    # &amp; and &#x26; are '&'; '&copy=' is not a reference in an attribute (HTML's rule)
    assert f'href="/web/{TS}/http://news.example/world/2026/list?a=1&amp;b=2&amp;copy=3&amp;d=4"' in out


def test_base_href_changes_how_later_urls_resolve() -> None:
    out = rewritten('<base href="../media/"><img src="a.png"><a href="b.html">b</a>')
    assert f'<base href="/web/{TS}/http://news.example/world/media/">' in out
    assert f'src="/web/{TS}im_/http://news.example/world/media/a.png"' in out


def test_meta_refresh_and_absolute_meta_urls() -> None:
    out = rewritten('<meta http-equiv="Refresh" content="5; URL=\'/next.html\'">'
                    '<meta property="og:image" content="http://news.example/og.png"><meta name="x" content="5">')
    assert f"content=\"5; URL='/web/{TS}/http://news.example/next.html'\"" in out
    assert f'content="/web/{TS}/http://news.example/og.png"' in out
    assert '<meta name="x" content="5">' in out


def test_integrity_crossorigin_and_archived_csp_are_disabled() -> None:
    out = rewritten('<script src="/a.js" integrity="sha384-x" crossorigin="anonymous"></script>'
                    '<meta http-equiv="Content-Security-Policy" content="default-src https://news.example">')
    assert '_integrity="sha384-x" _crossorigin="anonymous"' in out
    assert '_content="default-src https://news.example"' in out


def test_inline_css_in_style_elements_and_attributes() -> None:
    out = rewritten('<style>@import "x.css"; .a{background:url(/bg.png)}</style>'
                    '<div style="background: url(&quot;/d.png&quot;)">d</div>')
    assert f'@import "/web/{TS}cs_/http://news.example/world/2026/x.css"' in out
    assert f"url(/web/{TS}oe_/http://news.example/bg.png)" in out
    assert f'style="background: url(&quot;/web/{TS}oe_/http://news.example/d.png&quot;)"' in out


def test_stylesheet_imports_fonts_and_images() -> None:
    css = ('@import url("base.css") screen;\n@import \'print.css\';\n'
           '@font-face{src:url(fonts/a.woff2) format("woff2"),url(data:font/woff;base64,AAA)}\n'
           ".x{background:url( '../img/b.png' )}\n")
    out = rewrite_css(css, UrlRewriter(TS, "http://news.example/static/site.css"))
    base = "http://news.example"
    assert out == (f'@import url("/web/{TS}cs_/{base}/static/base.css") screen;\n'
                   f"@import '/web/{TS}cs_/{base}/static/print.css';\n"
                   f'@font-face{{src:url(/web/{TS}oe_/{base}/static/fonts/a.woff2) format("woff2"),'
                   "url(data:font/woff;base64,AAA)}\n"
                   f".x{{background:url( '/web/{TS}oe_/{base}/img/b.png' )}}\n")
    assert css_urls(css, "http://news.example/static/site.css") == [
        f"{base}/static/base.css", f"{base}/static/print.css", f"{base}/static/fonts/a.woff2", f"{base}/img/b.png"]


def test_banner_opens_the_body_or_where_the_body_implicitly_starts() -> None:
    assert rewritten("<html><head><title>t</title></head><body id=b><p>x</p></body></html>", "[B]") == (
        "<html><head><title>t</title></head><body id=b>[B]<p>x</p></body></html>")
    assert rewritten("<title>t</title><meta charset=utf-8><h1>x</h1>", "[B]") == (
        "<title>t</title><meta charset=utf-8>[B]<h1>x</h1>")
    assert rewritten("<title>only a head</title>", "[B]") == "<title>only a head</title>[B]"


def test_embedded_urls_are_what_the_page_loads_not_what_it_links_to() -> None:
    markup = ('<link rel=stylesheet href="/s.css"><link rel=canonical href="/c"><a href="/next">n</a>'
              '<img src="/a.png" srcset="/a2.png 2x"><img data-src="/lazy.png"><style>b{background:url(bg.png)}</style>'
              '<script src="/app.js"></script><a href="/a.png">same image, linked</a>')
    assert embedded_urls(markup, "http://news.example/p/") == [
        "http://news.example/s.css", "http://news.example/a.png", "http://news.example/a2.png",
        "http://news.example/lazy.png", "http://news.example/p/bg.png", "http://news.example/app.js"]


def test_documents_in_other_charsets_and_invalid_bytes_round_trip() -> None:
    for body, content_type in (
        ("<meta charset='windows-1256'><img src='/a.png'><p>\u0645\u0631\u062d\u0628\u0627</p>".encode("cp1256"),
         None),
        ("<p>caf\xe9</p><img src='/a.png'>".encode("latin-1"), "text/html; charset=ISO-8859-1"),
        (b"<p>bad \xff\xfe utf-8 \xc3</p><img src='/a.png'>", "text/html; charset=utf-8"),
    ):
        text, charset = decode_document(body, content_type, is_html=True)
        assert encode_document(text, charset) == body
        out = encode_document(rewritten(text), charset)
        # the image URL, now double-quoted in the archive, is the only change
        assert re.sub(rb'"/web/\d+im_/http://news\.example(/a\.png)"', rb"'\1'", out) == body


def test_non_ascii_in_a_rewritten_value_becomes_character_references() -> None:
    out = rewritten('<a href="/caf\xe9.html">x</a>')
    assert f'href="/web/{TS}/http://news.example/caf&#233;.html"' in out
