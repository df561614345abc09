"""Page bytes to text, the way the page meant them: one decoder for extraction and replay.

The charset comes from a byte-order mark, then the Content-Type header, then the page's
``<meta charset>`` (CSS: ``@charset``). Valid UTF-8 is read as UTF-8 whatever is declared
(legacy text practically never is valid UTF-8, and servers often mislabel pages). When the
header says UTF-8 and the bytes are not, the page's own ``<meta charset>`` decides, then the
legacy default of its ``<html lang>`` (WHATWG's table), then detection (charset_normalizer).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

_WIDE_ENCODINGS = ("utf-16", "utf-32")  # ASCII text in these is valid UTF-8 (with NULs)
_HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([a-zA-Z]{2})\b", re.IGNORECASE)
_LANG_SCAN_BYTES = 4096  # the <html> tag comes first; w3lib reads <meta charset> as far
# The WHATWG HTML standard's legacy default encoding by locale (windows-1252 elsewhere).
_LEGACY_ENCODINGS = {
    **dict.fromkeys(("ar", "fa", "ur"), "cp1256"),
    **dict.fromkeys(("be", "bg", "kk", "mk", "ru", "sr", "uk"), "cp1251"),
    **dict.fromkeys(("cs", "hr", "sk"), "cp1250"),
    **dict.fromkeys(("hu", "pl", "sl"), "iso8859-2"),
    **{"el": "iso8859-7", "he": "cp1255", "ja": "shift_jis", "ko": "euc_kr", "lt": "cp1257"},
    **{"lv": "cp1257", "th": "cp874", "tr": "cp1254", "vi": "cp1258", "zh": "gb18030"},
}
_WHATWG_DEFAULT = "cp1252"  # the legacy default of every other locale (fr, en, es, de...)
# w3lib's names of byte-order marks -> the codecs that strip them on decoding, add them on encoding.
_BOM_CODECS = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-32-le": "utf-32",
               "utf-32-be": "utf-32"}
_CSS_CHARSET = re.compile(rb'^@charset\s+"([A-Za-z0-9_.:-]+)"\s*;')


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """An HTML page's text, for extraction: undecodable bytes replaced.

    UTF-8 with a few stray bytes (pages pasted together from both) reads those bytes as
    windows-1252 rather than losing them.
    """
    charset = document_charset(body, content_type)
    if charset == "utf-8":
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return _utf8_with_cp1252(body)
    return to_unicode(body, charset)


def decode_document(body: bytes, content_type: str | None, *, is_html: bool) -> tuple[str, str]:
    """The text of an HTML or CSS document and the codec that gives its bytes back exactly (replay).

    Undecodable bytes become lone surrogates (``surrogateescape``); when a charset does not
    round-trip (some stateful CJK codecs), ISO-8859-1, which maps every byte, is used
    instead: the URLs, all ASCII, are still found.
    """
    charset = document_charset(body, content_type, css=not is_html)
    try:
        text = body.decode(charset, "surrogateescape")
        if text.encode(charset, "surrogateescape") == body:
            return text, charset
    except (UnicodeError, LookupError):
        pass
    return body.decode("latin-1"), "latin-1"


def encode_document(text: str, charset: str) -> bytes:
    """Bytes of a document decoded by :func:`decode_document`, in its own charset."""
    return text.encode(charset, "surrogateescape")


def document_charset(body: bytes, content_type: str | None = None, *, css: bool = False) -> str:
    """The Python codec of a document's bytes, by the rules in this module's docstring.

    A byte-order mark gives a codec that consumes it (``utf-8-sig``, ``utf-16``), so the
    text has no BOM and encoding it again writes the BOM back.
    """
    bom_encoding, _bom = read_bom(body)
    if bom_encoding:
        return _BOM_CODECS.get(bom_encoding, bom_encoding)
    header = http_content_type_encoding(content_type)
    declared = header or (_css_declared(body) if css else html_body_declared_encoding(body))
    if not (declared or "").startswith(_WIDE_ENCODINGS) and _is_utf8(body):
        return "utf-8"
    if declared == "utf-8":
        return _not_utf8_after_all(body, header, css)
    if declared:
        return declared
    if css or _mostly_utf8(body):
        return "utf-8"
    return _detect(body)


def _css_declared(body: bytes) -> str | None:
    """The charset of a stylesheet's ``@charset`` rule, resolved as browsers do; None if absent."""
    match = _CSS_CHARSET.match(body)
    return resolve_encoding(match.group(1).decode("ascii")) if match else None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8_after_all(body: bytes, header: str | None, css: bool) -> str:
    """Bytes declared UTF-8 that are not: the page's own word, then its language's, then detection."""
    meta = html_body_declared_encoding(body) if header and not css else None
    if meta and meta != "utf-8" and not meta.startswith(_WIDE_ENCODINGS):
        return meta
    if css or _mostly_utf8(body):
        return "utf-8"
    lang = _html_lang(body)
    if lang:
        return _LEGACY_ENCODINGS.get(lang, _WHATWG_DEFAULT)
    return _detect(body)


def _html_lang(body: bytes) -> str | None:
    """The two-letter language of the page's <html lang>, lower-cased, or None."""
    match = _HTML_LANG.search(body[:_LANG_SCAN_BYTES])
    return match[1].decode("ascii").lower() if match else None


def _detect(body: bytes) -> str:
    """The codec of undeclared legacy bytes: charset_normalizer's guesses, the <html lang>'s usual one first."""
    # Short pages leave several single-byte code pages about as plausible (French reads as
    # Baltic windows-1257 too): the language's legacy default settles it, as in browsers.
    usual = codecs.lookup(_LEGACY_ENCODINGS.get(_html_lang(body) or "", _WHATWG_DEFAULT)).name
    matches = from_bytes(body)
    for match in matches:
        if codecs.lookup(match.encoding).name == usual:
            return usual
    best = matches.best()
    return best.encoding if best is not None else usual


def _mostly_utf8(body: bytes) -> bool:
    """Whether most non-ASCII bytes form UTF-8 sequences (a UTF-8 page with stray bytes)."""
    text = body.decode("utf-8", "surrogateescape")
    stray = sum(1 for char in text if "\udc80" <= char <= "\udcff")
    return stray * 2 < sum(1 for byte in body if byte > 127)


def _utf8_with_cp1252(body: bytes) -> str:
    """UTF-8, reading bytes that are not UTF-8 as windows-1252 (pages pasted from both)."""
    text = body.decode("utf-8", "surrogateescape")
    return re.sub(
        "[\udc80-\udcff]+",
        lambda m: m.group().encode("utf-8", "surrogateescape").decode("cp1252", "replace"),
        text,
    )
