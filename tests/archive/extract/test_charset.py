"""decode_html when the server's Content-Type says UTF-8 and the bytes are not UTF-8.

Misconfigured front ends label legacy pages ``charset=utf-8`` (common in the Maghreb
press, whose archives are windows-1256 or ISO-8859-1): the page's own ``<meta charset>``
decides, then the legacy default of its ``<html lang>``, then detection.
"""

from __future__ import annotations

import pytest

from archive.extract.article import extract_article
from archive.extract.decoding import decode_html
from tests.archive.extract.test_article import ARABIC, FRENCH, page

UTF8_HEADER = "text/html; charset=utf-8"
FRENCH_1252 = [*FRENCH, "Le prix du cœur d'artichaut a atteint 3 € le kilo, un record « historique » selon lui."]


@pytest.mark.parametrize(
    ("paragraphs", "lang", "charset"),
    [(ARABIC, "ar", "windows-1256"), (FRENCH, "fr", "ISO-8859-1"), (FRENCH_1252, "fr", "windows-1252")],
    ids=["arabic-cp1256", "french-latin1", "french-cp1252"],
)
def test_meta_charset_decides_over_a_false_utf8_header(paragraphs: list[str], lang: str, charset: str) -> None:
    html = page(paragraphs, lang=lang, charset_meta=charset)
    body = html.encode(charset)
    assert decode_html(body, UTF8_HEADER) == html
    article = extract_article(body, "https://example.org/news/1", UTF8_HEADER)
    assert article is not None
    assert article.text == "\n\n".join(paragraphs)
    assert article.language == lang


@pytest.mark.parametrize(
    ("paragraphs", "lang", "charset"),
    [(ARABIC, "ar", "cp1256"), (FRENCH_1252, "fr", "cp1252")],
    ids=["arabic-lang-default", "french-lang-default"],
)
def test_without_meta_the_html_lang_legacy_default_decides(paragraphs: list[str], lang: str, charset: str) -> None:
    html = page(paragraphs, lang=lang)
    assert decode_html(html.encode(charset), UTF8_HEADER) == html


def test_without_meta_or_lang_the_bytes_are_detected() -> None:
    html = page(ARABIC, lang="").replace(' lang=""', "")
    assert decode_html(html.encode("cp1256"), UTF8_HEADER) == html


def test_a_utf8_page_with_stray_bytes_stays_utf8_whatever_its_lang() -> None:
    html = page(ARABIC + FRENCH, lang="ar", charset_meta="utf-8")
    body = html.encode("utf-8").replace("vieille".encode(), "vieill\xe9".encode("latin-1"))
    text = decode_html(body, UTF8_HEADER)
    assert ARABIC[0] in text and "vieillé échoppe" in text


def test_a_wide_meta_charset_cannot_override_the_header() -> None:
    """<meta charset=utf-16> in bytes that are read as ASCII is a lie (WHATWG: treat as UTF-8)."""
    html = page(FRENCH, lang="fr", charset_meta="utf-16")
    body = html.encode("cp1252")
    assert decode_html(body, UTF8_HEADER) == html
