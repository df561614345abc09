"""Extraction quality, by hand: trafilatura's defaults against ``archive.extract.article`` on the datasets.

Run from the project root: ``python benchmarks/extraction_quality.py [DATASETS_DIR]``
(default: ``$NEWSARCHIVE_DATASETS`` or ``../shared/datasets``). Prints, per dataset,
precision/recall/F1 of the article body (ScrapingHub benchmark metric, on pages whose
ground truth has an ``articleBody``), the median time per page, and for our extractor the
share of pages whose title, publication date and language match the ground truth.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from archive.extract.article import Extracted, extract_article  # noqa: E402
from benchmarks.scoring import shingle_scores  # noqa: E402

DATASETS = ("articles-dev", "multilingual-dev", "dates-dev")
T = TypeVar("T")


def datasets_dir() -> Path:
    """The shared datasets folder: argument, environment, else beside the project."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    default = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    return Path(os.environ.get("NEWSARCHIVE_DATASETS", default))


def load(folder: Path) -> list[tuple[dict, bytes]]:
    """Ground-truth rows with their page bytes."""
    with (folder / "ground-truth.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [(row, (folder / f"{row['id']}.html").read_bytes()) for row in rows]


def trafilatura_defaults(body: bytes, url: str) -> str:
    """The baseline: trafilatura.extract with its default options, on the raw bytes."""
    return trafilatura.extract(body, url=url) or ""


def ours(body: bytes, url: str) -> Extracted:
    """Our extractor, with an empty result where it finds no article."""
    return extract_article(body, url) or Extracted("", None, [], None, None, None, None, None)


def timed(
    function: Callable[[bytes, str], T], pages: list[tuple[dict, bytes]]
) -> tuple[list[T], float]:
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


def body_line(label: str, rows: list[dict], texts: list[str], median_ms: float) -> str:
    """One extractor's body scores on the pages whose ground truth has an articleBody."""
    pairs = [(row["articleBody"], text) for row, text in zip(rows, texts) if row.get("articleBody")]
    quality = "n/a"
    if pairs:
        scores = shingle_scores(pairs)
        quality = f"P={scores.precision:.3f} R={scores.recall:.3f} F1={scores.f1:.3f} on {len(pairs)}"
    return f"  {label:<21} body {quality:<36} median {median_ms:5.1f} ms/page"


def report(name: str, pages: list[tuple[dict, bytes]]) -> None:
    """Print one dataset's body scores side by side, then our metadata accuracy."""
    print(f"\n== {name}: {len(pages)} pages")
    rows = [row for row, _ in pages]
    baseline, baseline_ms = timed(trafilatura_defaults, pages)
    articles, ours_ms = timed(ours, pages)
    print(body_line("trafilatura defaults", rows, baseline, baseline_ms))
    print(body_line("archive.extract.article", rows, [a.text for a in articles], ours_ms))
    pairs = list(zip(rows, articles))
    title = [folded(a.title) == folded(row["title"]) for row, a in pairs if row.get("title")]
    date = [
        (a.published or "")[:10] == row["date"][:10]
        for row, a in pairs
        if isinstance(row.get("date"), str) and row["date"]  # some rows hold NaN: no known date
    ]
    language = [a.language == row["lang"] for row, a in pairs if row.get("lang")]
    print(f"  archive.extract.article       title {share(title)}  published {share(date)}", end="")
    print(f"  language {share(language)}")


def main() -> None:
    """Report every dataset found."""
    root = datasets_dir()
    for name in DATASETS:
        if (root / name / "ground-truth.jsonl").exists():
            report(name, load(root / name))
        else:
            print(f"\n== {name}: not found under {root}")


if __name__ == "__main__":
    main()
