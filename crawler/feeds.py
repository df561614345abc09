"""Feed parsing: the article links of an RSS 2.0 / RSS 1.0, Atom or JSON Feed document.

Pure functions of the bytes the server sent (no Scrapy), so that the spider and the fuzz
tests call the same code. Whatever the bytes, :func:`feed_entries` returns a list: a feed
that cannot be parsed has no entries.

Which element names an item's page:
- RSS: ``<link>``; and ``<guid>`` when it is a permalink. RSS 2.0 makes a guid without
  ``isPermaLink`` a permalink, but many feeds put opaque ids there (``<guid>12345</guid>``,
  ``<guid>urn:uuid:...</guid>``, ``tag:`` URIs) without the attribute, so an unqualified
  guid counts only when it is an absolute http(s) URL; ``isPermaLink="false"`` never does.
- Atom: ``<link href>`` with no ``rel`` or ``rel="alternate"``, resolved against the feed URL.
- JSON Feed 1 and 1.1 (https://jsonfeed.org/version/1.1): each item's ``url``
  (``external_url`` names a page elsewhere, which the item only comments on).
Dates (RSS ``pubDate``, Atom ``published``/``updated``, JSON Feed ``date_published``) are
parsed when they can be, so the spider can ask for the newest items first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from lxml import etree

from crawler.scope import absolute_http_url

JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")
FEED_MAX_ITEMS = 10_000  # a news feed has tens of items; a larger one is a trap or a dump


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: the URL of its page and when it was published, if the feed says."""

    url: str
    published: datetime | None = None


def feed_entries(body: bytes, url: str, content_type: str | None = None) -> list[FeedEntry]:
    """The items of the feed in ``body`` (fetched from ``url``), in feed order, each URL once."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media.endswith("json") or body.lstrip()[:1] == b"{":
        entries = _json_feed(body, url)
    else:
        entries = _xml_feed(body, url)
    unique: dict[str, FeedEntry] = {}
    for entry in entries[:FEED_MAX_ITEMS]:
        unique.setdefault(entry.url, entry)
    return list(unique.values())


def newest_first(entries: list[FeedEntry]) -> list[FeedEntry]:
    """Entries by publication time, newest first; undated ones after, in feed order."""
    dated = [e for e in entries if e.published is not None]
    dated.sort(key=lambda e: e.published.timestamp(), reverse=True)  # type: ignore[union-attr]
    return [*dated, *(e for e in entries if e.published is None)]


def _json_feed(body: bytes, url: str) -> list[FeedEntry]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: deeply nested garbage
        return []
    if not isinstance(data, dict) or data.get("version") not in JSON_FEED_VERSIONS:
        return []
    items = data.get("items")
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = absolute_http_url(item.get("url"), url)
        if link:
            entries.append(FeedEntry(link, _iso_date(item.get("date_published"))))
    return entries


_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def _xml_feed(body: bytes, url: str) -> list[FeedEntry]:
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except (etree.LxmlError, ValueError):
        return []
    if root is None:
        return []
    entries = []
    for element in root.iter("{*}item", "{*}entry"):
        children = [child for child in element if isinstance(child.tag, str)]
        if etree.QName(element).localname == "item":
            links = [_text(c) for c in children if _name(c) == "link"]
            links += [_text(c) for c in children if _name(c) == "guid" and _guid_is_permalink(c)]
            dates = [_text(c) for c in children if _name(c) in ("pubDate", "date")]
        else:
            links = [c.get("href", "") for c in children
                     if _name(c) == "link" and c.get("rel", "alternate") == "alternate"]
            dates = [_text(c) for c in children if _name(c) in ("published", "updated")]
        published = next((d for d in map(_any_date, dates) if d), None)
        for link in links:
            if absolute := absolute_http_url(link, url):
                entries.append(FeedEntry(absolute, published))
    return entries


def _guid_is_permalink(guid: etree._Element) -> bool:
    flag = (guid.get("isPermaLink") or "").strip().lower()
    if flag == "false":
        return False
    return absolute_http_url(_text(guid), "") is not None  # absolute by itself, not against the feed


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _iso_date(value: object) -> datetime | None:
    """An RFC 3339 date (JSON Feed, Atom), aware, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _any_date(value: str) -> datetime | None:
    """An RFC 822 (RSS) or RFC 3339 (Atom, Dublin Core) date, or None."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return _iso_date(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
