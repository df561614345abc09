"""The ScrapingHub article-extraction-benchmark metric, shared by the benchmark and the tests.

Follows ``evaluate.py`` of scrapinghub/article-extraction-benchmark: ``\\w+`` tokens, word
4-gram shingles counted as a multiset, true/false positives and false negatives normalised
per page so that long pages weigh no more than short ones, precision and recall averaged
over pages, F1 the harmonic mean of those averages.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

SHINGLE_SIZE = 4  # the benchmark's n-gram length
_TOKEN = re.compile(r"\w+", re.UNICODE)


class Scores(NamedTuple):
    """Averaged precision, recall and their F1 over a set of pages."""

    precision: float
    recall: float
    f1: float


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    """Word 4-grams of a text; a text shorter than that is one shingle of all its tokens."""
    tokens = _TOKEN.findall(text)
    count = max(1, len(tokens) - SHINGLE_SIZE + 1)
    return Counter(tuple(tokens[i : i + SHINGLE_SIZE]) for i in range(count) if tokens)


def page_counts(true: str, pred: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page's predicted body against its ground truth."""
    truth, found = _shingles(true or ""), _shingles(pred or "")
    tp = sum((truth & found).values())
    fp = sum((found - truth).values())
    fn = sum((truth - found).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _ratio(hit: float, miss: float, other_miss: float) -> float:
    """Precision or recall of one page, with the benchmark's conventions for empty pages."""
    if miss == other_miss == 0:
        return 1.0
    return hit / (hit + miss) if hit + miss else 0.0


def shingle_scores(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Scores over (ground truth, prediction) pairs, one pair a page."""
    counts = [page_counts(true, pred) for true, pred in pairs]
    # A set where no page has a prediction (or no truth) has no precision (recall) to average.
    precision = _mean([_ratio(tp, fp, fn) for tp, fp, fn in counts if tp + fp > 0])
    recall = _mean([_ratio(tp, fn, fp) for tp, fp, fn in counts if tp + fn > 0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1)


def _mean(values: list[float]) -> float:
    """The mean, 0.0 for no values."""
    return statistics.mean(values) if values else 0.0
