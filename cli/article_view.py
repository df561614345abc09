"""`newsarchive show`: one article for a person to read, with its versions and captures."""

from __future__ import annotations

import difflib
import textwrap
from typing import Any, TextIO

from archive.query.exports import flat_cell

METADATA = ("id", "title", "source", "canonical_url", "url", "authors", "published", "language",
            "sitename", "first_seen", "last_seen", "content_hash", "duplicate_of", "story_id")


def version_diff(versions: list[dict[str, Any]]) -> list[str]:
    """Unified diff, line per paragraph, between the two latest versions (empty when one)."""
    if len(versions) < 2:
        return []
    old, new = versions[-2], versions[-1]
    return list(difflib.unified_diff(
        old["text"].split("\n"), new["text"].split("\n"),
        f"version {old['version']} ({old['fetched']})", f"version {new['version']} ({new['fetched']})",
        lineterm="",
    ))


def print_article(article: dict[str, Any], out: TextIO) -> None:
    for key in METADATA:
        value = flat_cell(article.get(key))
        if value != "":
            out.write(f"{key + ':':<15}{value}\n")
    if article.get("duplicates"):
        copies = ", ".join(f"{d['id']} ({d['source']})" for d in article["duplicates"])
        out.write(f"{'duplicates:':<15}{copies}\n")
    out.write("\n")
    for paragraph in article["text"].split("\n"):
        out.write(textwrap.fill(paragraph, width=100) + "\n" if paragraph.strip() else "\n")
    out.write(f"\nURLs ({len(article['urls'])}):\n")
    for url in article["urls"]:
        out.write(f"  {url}\n")
    out.write(f"\nVersions ({len(article['versions'])}):\n")
    for version in article["versions"]:
        out.write(f"  {version['version']:>3}  {version['fetched']}  {version['content_hash']}\n")
    diff = version_diff(article["versions"])
    if diff:
        out.write("\nChanges in the latest version:\n")
        out.writelines(line + "\n" for line in diff)
    if article.get("story"):
        out.write(f"\nThe same story elsewhere ({len(article['story'])}):\n")
        for member in article["story"]:
            role = "original" if member["original"] else "copy"
            out.write(f"  {member['id']:>6}  {member['source']:<16} {role:<8}  "
                      f"published {member['published'] or '?'}  first seen {member['first_seen']}  {member['url']}\n")
    out.write(f"\nCaptures ({len(article['captures'])}):\n")
    for capture in article["captures"]:
        out.write(f"  {capture['timestamp']}  {capture['status']}  {capture['record_type']:<8}  "
                  f"{capture['warc_file']}@{capture['warc_offset']}  {capture['url']}\n")
