"""Fuzzing the replay rewriter: whatever markup or stylesheet a capture holds, rewriting returns a
document, never an exception, and text with nothing to rewrite comes back as it was."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.extract.decoding import decode_document, encode_document
from archive.web.rewrite import UrlRewriter, css_urls, embedded_urls, rewrite_css, rewrite_html

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE = "http://news.example/2026/story.html"
REWRITER = UrlRewriter("20260105120000", PAGE)

# Pieces of HTML and CSS that the rewriter acts on, in any order, broken or whole.
MARKUP = st.lists(st.one_of(
    st.sampled_from(["<img src=", "<a href='", "\"", "'", ">", "</", "<script>", "</script>", "<style>",
                     "</style>", "<!--", "-->", "<base href=/x/>", "<meta http-equiv=refresh content='0;url=",
                     " srcset=\"a.png 1x, b.png 2x\"", "url(", ")", "@import ", "<iframe src=//other.example/>",
                     "&amp;", "&#x", "javascript:", "data:image/png;base64,AAAA", "http://[::1", "\x00", "\ufeff"]),
    st.text(max_size=20),
), max_size=40).map("".join)
CSS = st.lists(st.one_of(
    st.sampled_from(["url(", ")", "\"", "'", "@import ", "@charset \"x\";", "/*", "*/", "\\", "{", "}", ";",
                     "background:url(a.png)", "@font-face{src:url(//fonts.example/f.woff2)}"]),
    st.text(max_size=15),
), max_size=40).map("".join)


@FUZZ
@given(markup=MARKUP)
def test_any_markup_rewrites_without_error(markup: str) -> None:
    out = rewrite_html(markup, REWRITER)
    assert isinstance(out, str)
    assert all(url.startswith(("http://", "https://")) for url in embedded_urls(markup, PAGE))


@FUZZ
@given(css=CSS)
def test_any_stylesheet_rewrites_without_error(css: str) -> None:
    assert isinstance(rewrite_css(css, REWRITER), str)
    assert all(url.startswith(("http://", "https://")) for url in css_urls(css, PAGE))


@FUZZ
@given(text=st.text(alphabet=st.characters(blacklist_characters="<&u@"), max_size=200))
def test_text_with_nothing_to_rewrite_is_kept(text: str) -> None:
    assert rewrite_html(text, REWRITER) == text
    assert rewrite_css(text, REWRITER) == text


@FUZZ
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(
    [None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1256", "text/css",
     "text/html; charset=x-unknown"]))
def test_any_bytes_decode_and_encode_back_exactly(body: bytes, content_type: str | None) -> None:
    text, charset = decode_document(body, content_type, is_html=content_type != "text/css")
    assert encode_document(text, charset) == body
