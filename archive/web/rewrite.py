"""URL rewriting of archived HTML and CSS, so a replayed page loads and links only inside the archive.

Replay serves a capture at ``/web/<timestamp><modifier>/<original URL>`` (DESIGN.md, pywb's
scheme, written by :mod:`archive.wayback`). Every URL a page loads or links to — ``href``,
``src``, ``srcset``, ``poster``, ``<meta http-equiv=refresh>``, ``<base href>``, CSS
``url(...)`` and ``@import`` in stylesheets, ``<style>`` elements and ``style`` attributes —
is made absolute against the page's URL (or its ``<base>``) and rewritten to such a path on
the replay server. The modifier tells the server what the URL is used for, with pywb's
names: none for a page the reader navigates to (it gets the banner), ``im_`` images,
``cs_`` stylesheets, ``js_`` scripts, ``if_``/``fr_`` frames, ``oe_`` other embeds (fonts,
media); ``id_`` (not written here) asks for the raw payload.

The rewriter is lossless outside the URLs it replaces, which a parse-and-serialise
approach (lxml) is not: like pywb's ``html_rewriter`` it scans the markup as a stream of
tags, but it copies every byte it does not rewrite — comments, doctype, entity spellings,
attribute quoting, broken markup — and replaces only the value of a URL attribute or the
URL inside CSS. Documents are decoded with their own charset and ``surrogateescape``, so
bytes invalid in it survive the round trip; new attribute values escape any non-ASCII
character as a character reference, which is valid in every charset.

The same scan tells the crawler which URLs a page embeds (:func:`embedded_urls`,
:func:`css_urls`): what replay rewrites as an embed is exactly what the crawl fetches as a
page requisite.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin, urlsplit

from archive.wayback import PAGE, replay_url

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
CSS_TYPES = frozenset({"text/css"})

# (tag, attribute) -> modifier, after pywb's html_rewriter table. Attributes a browser
# loads get an embed modifier; those it only navigates to get PAGE.
URL_ATTRIBUTES: dict[str, dict[str, str]] = {
    "a": {"href": PAGE},
    "area": {"href": PAGE},
    "audio": {"src": "oe_"},
    "base": {"href": PAGE},
    "blockquote": {"cite": PAGE},
    "body": {"background": "im_"},
    "button": {"formaction": PAGE},
    "del": {"cite": PAGE},
    "embed": {"src": "oe_"},
    "form": {"action": PAGE},
    "frame": {"src": "fr_"},
    "iframe": {"src": "if_"},
    "image": {"href": "im_", "xlink:href": "im_"},  # SVG
    "img": {"src": "im_", "srcset": "im_", "data-src": "im_", "data-srcset": "im_"},  # data-*: lazy loaders
    "input": {"src": "im_", "formaction": PAGE},
    "ins": {"cite": PAGE},
    "link": {"href": PAGE, "imagesrcset": "im_"},  # href: by rel, see _link_modifier
    "object": {"data": "oe_", "codebase": "oe_"},
    "q": {"cite": PAGE},
    "script": {"src": "js_", "href": "js_", "xlink:href": "js_"},  # HTML and SVG scripts
    "source": {"src": "oe_", "srcset": "im_", "data-srcset": "im_"},
    "table": {"background": "im_"},
    "td": {"background": "im_"},
    "th": {"background": "im_"},
    "track": {"src": "oe_"},
    "use": {"href": "oe_", "xlink:href": "oe_"},  # SVG sprites
    "video": {"src": "oe_", "poster": "im_"},
}
SRCSET_ATTRIBUTES = frozenset({"srcset", "imagesrcset", "data-srcset"})
LINK_REL_MODIFIERS = {
    "stylesheet": "cs_", "icon": "im_", "apple-touch-icon": "im_", "apple-touch-icon-precomposed": "im_",
    "mask-icon": "im_", "manifest": "oe_", "modulepreload": "js_",
}
PRELOAD_MODIFIERS = {  # <link rel=preload as=...>, as pywb maps them
    "script": "js_", "worker": "js_", "style": "cs_", "image": "im_", "document": "if_", "fetch": "oe_",
    "font": "oe_", "audio": "oe_", "video": "oe_", "embed": "oe_", "object": "oe_", "track": "oe_",
}
# Attributes that would defeat replay once URLs change: subresource integrity hashes no
# longer match a rewritten stylesheet, and an archived CSP would name the original hosts.
DISABLED_ATTRIBUTES = frozenset({"integrity", "crossorigin"})
# Elements whose content is text, not markup, up to their end tag (HTML's raw text and
# escapable raw text elements): nothing inside them is a tag.
RAW_TEXT_ELEMENTS = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
# Elements allowed before the body starts: the banner goes before the first other one.
HEAD_ELEMENTS = frozenset({"html", "head", "title", "meta", "link", "style", "script", "base", "noscript",
                           "template"})

_TAG_OPEN = re.compile(r"<([a-zA-Z][^\s/>]*)")
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?:(?P<name>[^\s/>][^\s/>=]*)(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s>]*))?)?"""
)
_CHAR_REFERENCE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_META_REFRESH = re.compile(r"""^(\s*[\d.]+\s*[;,]\s*(?:url\s*=\s*)?["']?)([^"'\s][^"']*?)(["']?\s*)$""", re.IGNORECASE)
# Every reference begins with "@" or "u": the lookahead turns down any other character before
# the engine sets up the alternatives and the optional group (the dev pages' 7 MB of <style>
# scanned in 0.11 s instead of 0.26 s), matching the same.
_CSS_REFERENCE = re.compile(
    r"""(?=[@u])(?:@import\s*(?:"(?P<import_dq>[^"]*)"|'(?P<import_sq>[^']*)')"""  # @import "x.css"
    r"""|(?P<import_url>@import\s*)?url\(\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^"'()\s]*))\s*\))""",
    re.IGNORECASE,
)
_CSS_URL_GROUPS = ("import_dq", "import_sq", "dq", "sq", "bare")
_END_TAGS: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in RAW_TEXT_ELEMENTS
}
_NON_URL_SCHEMES = ("javascript:", "data:", "mailto:", "tel:", "about:", "blob:", "sms:", "#")

UrlHandler = Callable[[str, str], str | None]  # (absolute URL, modifier) -> replacement, or None: keep


def resolve_url(base_url: str, value: str) -> str | None:
    """The absolute http(s) URL a reference in a document names, or None (fragment, data:, javascript:...)."""
    value = value.strip().replace("\t", "").replace("\n", "").replace("\r", "")
    if not value or value.lower().startswith(_NON_URL_SCHEMES):
        return None
    try:
        resolved = urljoin(base_url, value)
        scheme = urlsplit(resolved).scheme
    except ValueError:  # an invalid IPv6 literal or port: not a URL to follow
        return None
    return resolved if scheme in ("http", "https") else None


@dataclass(frozen=True)
class UrlRewriter:
    """Rewrites the URLs of one archived document, captured at ``timestamp`` from ``base_url``."""

    timestamp: str
    base_url: str

    def __call__(self, url: str, modifier: str) -> str:
        return replay_url(self.timestamp, url, modifier)


# --- HTML ------------------------------------------------------------------------------
def rewrite_html(text: str, rewriter: UrlRewriter, banner: str = "") -> str:
    """The document with every URL rewritten into the archive and ``banner`` opening its body.

    Also disables what would break or leak in replay: ``integrity`` and ``crossorigin``
    attributes and an archived ``<meta http-equiv=Content-Security-Policy>`` are renamed
    with a leading underscore, as pywb does.
    """
    return _HtmlScan(text, rewriter.base_url, rewriter, rewrite=True, banner=banner).run()


def embedded_urls(text: str, base_url: str) -> list[str]:
    """Absolute http(s) URLs the page loads to display itself (images, styles, scripts, fonts, frames).

    Includes the ``url(...)`` and ``@import`` of its ``<style>`` elements and ``style``
    attributes; stylesheets fetched from these URLs have their own (:func:`css_urls`).
    """
    found: list[str] = []

    def collect(url: str, modifier: str) -> None:
        if modifier != PAGE:
            found.append(url)

    _HtmlScan(text, base_url, collect, rewrite=False).run()
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class _Attribute:
    """Where one attribute of a start tag is; value_start is -1 for a bare attribute."""

    name: str  # lower-cased
    name_start: int
    value_start: int  # the value's quotes included
    value_end: int


class _HtmlScan:
    """One pass over a document's markup, calling ``on_url`` for each URL it references.

    Copies the text as it goes, replacing a URL attribute's value when ``on_url`` returns a
    new URL; ``rewrite`` also renames attributes that would break replay and places the
    banner.
    """

    def __init__(self, text: str, base_url: str, on_url: UrlHandler, *, rewrite: bool, banner: str = "") -> None:
        self.text = text
        self.base_url = base_url
        self.on_url = on_url
        self.rewrite = rewrite
        self.banner = banner
        self.has_base = False
        self.out: list[str] = []

    def run(self) -> str:
        text, out = self.text, self.out
        pos = 0
        while True:
            lt = text.find("<", pos)
            if lt < 0:
                out.append(text[pos:])
                break
            out.append(text[pos:lt])
            if text.startswith("<!--", lt):
                end = text.find("-->", lt + 2)
                pos = len(text) if end < 0 else end + 3
                out.append(text[lt:pos])
                continue
            if text.startswith(("<!", "<?", "</"), lt):  # doctype, CDATA, processing instruction, end tag
                end = text.find(">", lt)
                pos = len(text) if end < 0 else end + 1
                out.append(text[lt:pos])
                continue
            opened = _TAG_OPEN.match(text, lt)
            if opened is None:  # a lone '<' in text
                out.append("<")
                pos = lt + 1
                continue
            pos = self._start_tag(opened)
            name = opened.group(1).lower()
            if name in RAW_TEXT_ELEMENTS and pos < len(text):
                close = _END_TAGS[name].search(text, pos)
                end = close.start() if close else len(text)
                content = text[pos:end]
                out.append(_scan_css(content, self._resolve, self.on_url) if name == "style" else content)
                pos = end
        if self.banner:  # a document without a body: the banner still shows, at the end
            out.append(self.banner)
        return "".join(out)

    def _start_tag(self, opened: re.Match[str]) -> int:
        """Copy (or rewrite) one start tag; the position after it."""
        text = self.text
        name = opened.group(1).lower()
        pos = opened.end()
        attributes: list[_Attribute] = []
        while True:
            match = _ATTRIBUTE.match(text, pos)
            assert match is not None  # every part of the pattern is optional
            pos = match.end()
            if match.group("name") is None:
                break
            value_start, value_end = match.span("value") if match.group("value") is not None else (-1, -1)
            attributes.append(_Attribute(match.group("name").lower(), match.start("name"), value_start, value_end))
        if not text.startswith(">", pos):  # cut off by the end of the document
            self.out.append(text[opened.start():])
            return len(text)
        end = pos + 1
        if self.banner and name not in HEAD_ELEMENTS and name != "body":
            self.out.append(self.banner)  # the body starts here, implicitly
            self.banner = ""
        self.out.append(self._rewrite_attributes(name, attributes, opened.start(), end))
        if self.banner and name == "body":
            self.out.append(self.banner)
            self.banner = ""
        return end

    def _rewrite_attributes(self, tag: str, attributes: list[_Attribute], start: int, end: int) -> str:
        """The start tag's text with its URL attribute values replaced."""
        text = self.text
        values = {a.name: _attribute_value(text[a.value_start:a.value_end]) for a in attributes if a.value_start >= 0}
        replacements: list[tuple[int, int, str]] = []  # spans of the tag's text to replace
        for attribute in attributes:
            name = attribute.name
            if self.rewrite and (name in DISABLED_ATTRIBUTES or (
                    tag == "meta" and name == "content"
                    and values.get("http-equiv", "").lower() == "content-security-policy")):
                replacements.append((attribute.name_start, attribute.name_start, "_"))
                continue
            if attribute.value_start < 0:
                continue
            value = values[name]
            new = self._rewrite_value(tag, name, value, values)
            if new is not None and new != value:
                replacements.append((attribute.value_start, attribute.value_end, '"' + _escape_attribute(new) + '"'))
        if not replacements:
            return text[start:end]
        pieces, cursor = [], start
        for piece_start, piece_end, piece in sorted(replacements):
            pieces += [text[cursor:piece_start], piece]
            cursor = piece_end
        pieces.append(text[cursor:end])
        return "".join(pieces)

    def _rewrite_value(self, tag: str, name: str, value: str, values: dict[str, str]) -> str | None:
        """The new value of one attribute, or None to keep it."""
        if name == "style":
            return _scan_css(value, self._resolve, self.on_url)
        if tag == "meta" and name == "content":
            return self._rewrite_meta(value, values)
        modifier = URL_ATTRIBUTES.get(tag, {}).get(name)
        if modifier is None:
            return None
        if tag == "link" and name == "href":
            modifier = _link_modifier(values)
        if name in SRCSET_ATTRIBUTES:
            return _replace_spans(value, _srcset_spans(value), lambda url: self._url(url, modifier))
        if tag == "base" and name == "href" and not self.has_base:
            self.has_base = True  # the first <base href> sets the document's base URL
            resolved = self._resolve(value)
            if resolved is None:
                return None
            self.base_url = resolved
            return self.on_url(resolved, modifier)
        return self._url(value, modifier)

    def _rewrite_meta(self, value: str, values: dict[str, str]) -> str | None:
        if values.get("http-equiv", "").lower() == "refresh":
            match = _META_REFRESH.match(value)
            if match is None:
                return None
            new = self._url(match.group(2), PAGE)
            return None if new is None else match.group(1) + new + match.group(3)
        if value.strip().lower().startswith(("http://", "https://", "//")):  # og:url, og:image...
            return self._url(value, PAGE)
        return None

    def _resolve(self, value: str) -> str | None:
        return resolve_url(self.base_url, value)

    def _url(self, value: str, modifier: str) -> str | None:
        resolved = self._resolve(value)
        return None if resolved is None else self.on_url(resolved, modifier)


def _link_modifier(values: dict[str, str]) -> str:
    """What a ``<link href>`` is loaded as, from its rel (and as, for preloads)."""
    rels = values.get("rel", "").lower().split()
    if "preload" in rels:
        return PRELOAD_MODIFIERS.get(values.get("as", "").lower(), "oe_")
    for rel in rels:
        if rel in LINK_REL_MODIFIERS:
            return LINK_REL_MODIFIERS[rel]
    return PAGE  # canonical, alternate, amphtml, next...: links, not loaded


def _attribute_value(raw: str) -> str:
    """An attribute's value as the browser reads it: unquoted, character references decoded.

    Only references closed by ';' are decoded: in attribute values browsers leave
    ``&copy=2`` alone, and so must a query string.
    """
    if raw[:1] in ("'", '"'):
        raw = raw[1:-1]
    return _CHAR_REFERENCE.sub(lambda m: html.unescape(m.group(0)), raw) if "&" in raw else raw


def _escape_attribute(value: str) -> str:
    """A value for a double-quoted attribute, non-ASCII as character references (valid in any charset).

    Lone surrogates stand for bytes the document's charset could not decode: they stay, to
    be encoded back to those bytes.
    """
    value = value.replace("&", "&amp;").replace('"', "&quot;")
    if value.isascii():
        return value
    return "".join(c if c.isascii() or 0xDC80 <= ord(c) <= 0xDCFF else f"&#{ord(c)};" for c in value)


def _srcset_spans(value: str) -> list[tuple[int, int]]:
    """Where the URLs are in a srcset value, by the HTML standard's parsing rules.

    A candidate is a URL (a run of non-space characters; trailing commas end it) and
    optional descriptors up to the next comma, so URLs with commas inside survive.
    """
    spans = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        if start == i:
            break
        url = value[start:i]
        if url.endswith(","):
            spans.append((start, start + len(url.rstrip(","))))
            continue
        spans.append((start, i))
        while i < n and value[i] != ",":  # descriptors
            i += 1
    return spans


def _replace_spans(value: str, spans: list[tuple[int, int]], replace: Callable[[str], str | None]) -> str:
    pieces, cursor = [], 0
    for start, end in spans:
        new = replace(value[start:end])
        if new is not None:
            pieces += [value[cursor:start], new]
            cursor = end
    pieces.append(value[cursor:])
    return "".join(pieces)


# --- CSS -------------------------------------------------------------------------------
def rewrite_css(text: str, rewriter: UrlRewriter) -> str:
    """The stylesheet with every ``url(...)`` and ``@import`` rewritten into the archive."""
    return _scan_css(text, partial(resolve_url, rewriter.base_url), rewriter)


def css_urls(text: str, base_url: str) -> list[str]:
    """Absolute http(s) URLs a stylesheet loads: imports, fonts, background images."""
    found: list[str] = []

    def collect(url: str, modifier: str) -> None:
        found.append(url)

    _scan_css(text, partial(resolve_url, base_url), collect)
    return list(dict.fromkeys(found))


def _scan_css(text: str, resolve: Callable[[str], str | None], on_url: UrlHandler) -> str:
    """CSS with each referenced URL passed to ``on_url`` and replaced by what it returns."""
    if "url(" not in text.lower() and "@import" not in text.lower():
        return text

    def replace(match: re.Match[str]) -> str:
        group = next(g for g in _CSS_URL_GROUPS if match.group(g) is not None)
        resolved = resolve(match.group(group))
        if resolved is None:
            return match.group(0)
        imported = group.startswith("import") or match.group("import_url") is not None
        new = on_url(resolved, "cs_" if imported else "oe_")
        if new is None:
            return match.group(0)
        start, end = match.span(group)
        whole = match.group(0)
        return whole[: start - match.start()] + new + whole[end - match.start():]

    return _CSS_REFERENCE.sub(replace, text)


# --- charsets --------------------------------------------------------------------------
