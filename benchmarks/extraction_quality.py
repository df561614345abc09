"""Extraction quality, by hand: ``archive.extract.article`` against trafilatura alone on the datasets.

Run from the project root:
``python benchmarks/extraction_quality.py [DATASETS_DIR] [--no-baselines] [--dump FILE]``
(default folder: ``$NEWSARCHIVE_DATASETS`` or ``../shared/datasets``). For every dataset
it prints the article body's precision/recall/F1 (ScrapingHub benchmark metric, on pages
whose ground truth has an ``articleBody``) overall and per language, for our extractor and
for trafilatura alone (defaults, and ``favor_precision``); the share of trafilatura's
``with`` segments found and ``without`` segments avoided; publication dates (exact day,
and with the time where the ground truth states one) against trafilatura's and htmldate's
(``original_date``, extensive search); authors where the ground truth names them; and the
median milliseconds per page. ``--dump`` writes what our extractor found, page by page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import trafilatura
from htmldate import find_date

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from archive.extract.article import extract_article  # noqa: E402
from tests.scoring import Scores, shingle_scores  # noqa: E402

DATASETS = ("articles-dev", "multilingual-dev", "dates-dev")
MIN_LANGUAGE_PAGES = 2  # a language with fewer scored pages joins "other" in the per-language lines
T = TypeVar("T")


@dataclass
class Found:
    """What one extractor found on one page (text, and the metadata it gives, if any)."""

    text: str = ""
    published: str | None = None
    authors: list[str] | None = None
    title: str | None = None
    language: str | None = None


def datasets_dir(argument: str | None) -> Path:
    """The shared datasets folder: argument, environment, else beside the project."""
    if argument:
        return Path(argument)
    default = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    return Path(os.environ.get("NEWSARCHIVE_DATASETS", default))


def load(folder: Path) -> list[tuple[dict, bytes]]:
    """Ground-truth rows with their page bytes."""
    with (folder / "ground-truth.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [(row, (folder / f"{row['id']}.html").read_bytes()) for row in rows]


def trafilatura_defaults(body: bytes, url: str) -> Found:
    """Baseline: trafilatura with its default options, on the raw bytes, with its metadata."""
    document = trafilatura.bare_extraction(body, url=url or None, with_metadata=True)
    if not document:
        return Found()
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return Found(document.text or "", document.date, authors)


def trafilatura_precision(body: bytes, url: str) -> Found:
    """Baseline: trafilatura with ``favor_precision``."""
    return Found(trafilatura.extract(body, url=url or None, favor_precision=True) or "")


def htmldate_original(body: bytes, url: str) -> Found:
    """Baseline for dates: htmldate looking for the original date, extensive search."""
    try:
        date = find_date(body, url=url or None, original_date=True, extensive_search=True)
    except ValueError:  # htmldate raises on some undecodable pages
        date = None
    return Found(published=date)


def ours(body: bytes, url: str) -> Found:
    """Our extractor, with an empty result where it finds no article."""
    article = extract_article(body, url)
    if article is None:
        return Found()
    return Found(article.text, article.published, list(article.authors), article.title, article.language)


def timed(function: Callable[[bytes, str], T], pages: list[tuple[dict, bytes]]) -> tuple[list[T], float]:
    """Results of function on every page, and the median milliseconds it took per page."""
    results, times = [], []
    for row, body in pages:
        start = time.perf_counter()
        results.append(function(body, row.get("url") or ""))
        times.append((time.perf_counter() - start) * 1000)
    return results, statistics.median(times)


def folded(text: object) -> str:
    """Text after Unicode normalisation, case folding and whitespace collapsing.

    Not archive.catalogue.dedup.normalise_text, which drops punctuation: a title scores
    here only when its words and punctuation are the ground truth's.
    """
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def share(hits: list[bool]) -> str:
    """Hits as "k/n (p%)"."""
    return f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.0f}%)" if hits else "n/a"


def scores_text(scores: Scores | None) -> str:
    """F1 (P, R) as the summary tables write it."""
    return f"{scores.f1:.3f} ({scores.precision:.3f}, {scores.recall:.3f})" if scores else "n/a"


def body_scores(rows: list[dict], texts: list[str]) -> tuple[Scores | None, dict[str, tuple[Scores, int]]]:
    """Scores over the pages with an articleBody: all of them, and per language."""
    pairs = [(row, text) for row, text in zip(rows, texts) if row.get("articleBody")]
    if not pairs:
        return None, {}
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row, text in pairs:
        by_language[row.get("lang") or "?"].append((row["articleBody"], text))
    small = [lang for lang, items in by_language.items() if len(items) < MIN_LANGUAGE_PAGES]
    if small:
        by_language["other"] = [pair for lang in small for pair in by_language.pop(lang)]
    per_language = {lang: (shingle_scores(items), len(items)) for lang, items in by_language.items()}
    return shingle_scores((row["articleBody"], text) for row, text in pairs), per_language


def segment_hits(rows: list[dict], texts: list[str]) -> tuple[list[bool], list[bool]]:
    """trafilatura's hand-picked segments: each ``with`` found, each ``without`` absent."""
    found, avoided = [], []
    for row, text in zip(rows, texts):
        words = folded(text)
        found += [folded(segment) in words for segment in row.get("with") or ()]
        avoided += [folded(segment) not in words for segment in row.get("without") or ()]
    return found, avoided


def known_date(row: dict) -> str | None:
    """The ground-truth date, None where there is none (some rows hold NaN or "")."""
    value = row.get("date")
    return value if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\d", value) else None


def _parsed(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def same_time(truth: str, found: str | None) -> bool:
    """Same instant when both state a zone, else the same wall-clock minute on the same day."""
    want, got = _parsed(truth), _parsed(found or "")
    if want is None or got is None or "T" not in (found or ""):
        return False
    if want.tzinfo is not None and got.tzinfo is not None:
        return want == got
    return (want.date(), want.hour, want.minute) == (got.date(), got.hour, got.minute)


def date_hits(rows: list[dict], found: list[Found]) -> tuple[list[bool], list[bool]]:
    """Exact-day matches on pages with a known date; time matches where the truth has a time."""
    day, with_time = [], []
    for row, result in zip(rows, found):
        truth = known_date(row)
        if truth is None:
            continue
        day.append((result.published or "")[:10] == truth[:10])
        if "T" in truth and not truth.endswith("T00:00:00"):  # midnight: a date stored as a datetime
            with_time.append(same_time(truth, result.published))
    return day, with_time


_NAME_SEPARATORS = re.compile(r"\s*(?:;|,|/|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*", re.IGNORECASE)
_BYLINE_WORD = re.compile(r"^(?:by|par|von|por|di|przez)\s+", re.IGNORECASE)


def name_set(names: Iterable[str]) -> set[str]:
    """Names compared loosely: split on separators, byline word and end punctuation off, folded."""
    result = set()
    for name in names:
        for part in _NAME_SEPARATORS.split(name):
            part = _BYLINE_WORD.sub("", part.strip()).strip(" .")
            if part:
                result.add(folded(part))
    return result


def author_hits(rows: list[dict], found: list[Found]) -> tuple[list[bool], list[bool]]:
    """Pages whose ground truth names authors: the same set found; pages annotated with none: none."""
    named, unnamed = [], []
    for row, result in zip(rows, found):
        if "author" not in row or result.authors is None:
            continue
        if row["author"].strip():
            named.append(name_set([row["author"]]) == name_set(result.authors))
        else:
            unnamed.append(not result.authors)
    return named, unnamed


def report(name: str, pages: list[tuple[dict, bytes]], baselines: bool, dump: list[dict]) -> None:
    """Print one dataset's scores, ours and the baselines side by side."""
    print(f"\n== {name}: {len(pages)} pages")
    rows = [row for row, _ in pages]
    extractors: dict[str, Callable[[bytes, str], Found]] = {"archive.extract.article": ours}
    if baselines:
        extractors |= {
            "trafilatura default": trafilatura_defaults,
            "trafilatura precision": trafilatura_precision,
        }
        if any(known_date(row) for row in rows):
            extractors["htmldate original"] = htmldate_original
    results: dict[str, list[Found]] = {}
    for label, function in extractors.items():
        results[label], median_ms = timed(function, pages)
        print(f"  {label:<22} median {median_ms:6.1f} ms/page")
    for label, found in results.items():
        texts = [item.text for item in found]
        overall, per_language = body_scores(rows, texts)
        if overall is not None and label != "htmldate original":  # dates only, no body
            pages_scored = sum(count for _, count in per_language.values())
            print(f"  {label:<22} body F1 (P, R) {scores_text(overall)} on {pages_scored}")
            for lang, (scores, count) in sorted(per_language.items(), key=lambda item: -item[1][1]):
                print(f"    {lang:<8} {scores_text(scores)} on {count}")
        with_found, without_avoided = segment_hits(rows, texts)
        if with_found and label != "htmldate original":
            print(f"  {label:<22} segments: with found {share(with_found)}, "
                  f"without avoided {share(without_avoided)}")
        day, with_time = date_hits(rows, found)
        if day and (label != "trafilatura precision"):
            print(f"  {label:<22} published day {share(day)}, with time {share(with_time)}")
        named, unnamed = author_hits(rows, found)
        if named:
            print(f"  {label:<22} authors {share(named)}; none where none annotated {share(unnamed)}")
    mine = list(zip(rows, results["archive.extract.article"]))
    title = [folded(item.title) == folded(row["title"]) for row, item in mine if row.get("title")]
    language = [item.language == row["lang"] for row, item in mine if row.get("lang")]
    print(f"  archive.extract.article        title {share(title)}, language {share(language)}")
    for row, item in mine:
        dump.append({"set": name, "id": row["id"], **asdict(item)})


def main() -> None:
    """Report every dataset found."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="?", help="the datasets folder")
    parser.add_argument("--no-baselines", action="store_true", help="only our extractor (quicker)")
    parser.add_argument("--dump", type=Path, help="write our results as JSON lines here")
    options = parser.parse_args()
    root = datasets_dir(options.datasets)
    dump: list[dict] = []
    for name in DATASETS:
        if (root / name / "ground-truth.jsonl").exists():
            report(name, load(root / name), not options.no_baselines, dump)
        else:
            print(f"\n== {name}: not found under {root}")
    if options.dump:
        with options.dump.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in dump)


if __name__ == "__main__":
    main()
