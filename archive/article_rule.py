"""Which URLs of a source are article pages: the decision the spider and WARC recovery share.

The spider fetches a URL as an article, and hands its page to extraction, when the rule
says so; recovery catalogues from the archive the article pages a killed crawl archived
but never catalogued, and must pick the same pages, from the same ``sources.toml`` rules.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from archive.config import Source
from archive.urls import same_site

# Paths that are files, not pages: never articles, and not followed as links.
NON_PAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".pdf", ".mp3", ".mp4", ".zip", ".css", ".js",
)


class ArticleRule:
    """A source's ``allow`` and ``deny`` patterns and hosts, compiled once."""

    def __init__(self, source: Source) -> None:
        self.allow = [re.compile(p) for p in source.allow]
        self.deny = [re.compile(p) for p in source.deny]
        self.hosts = source.domains

    def matches(self, url: str) -> bool:
        """Article URLs match an ``allow`` pattern (any page but the home page when none) and no ``deny``."""
        if any(p.search(url) for p in self.deny):
            return False
        if self.allow:
            return any(p.search(url) for p in self.allow)
        return urlsplit(url).path not in ("", "/")

    def is_site_page(self, url: str) -> bool:
        """A page (not a file such as an image) on one of the source's hosts."""
        return same_site(url, self.hosts) and not urlsplit(url).path.lower().endswith(NON_PAGE_EXTENSIONS)

    def is_article_page(self, url: str) -> bool:
        """What the spider fetches as an article and extracts: a matching page of the source's site."""
        return self.matches(url) and self.is_site_page(url)
