"""Text fingerprints: what counts as the same text, and SimHash calibrated on real articles."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from pathlib import Path

import pytest

from archive.catalogue.dedup import (
    BAND_PROBE_RADIUS,
    MIN_NEAR_DUPLICATE_TOKENS,
    NEAR_DUPLICATE_DISTANCE,
    band_probes,
    content_hash,
    hamming,
    is_near_duplicate,
    normalise_text,
    simhash,
    simhash_bands,
    word_tokens,
)

# Light edits of an article, as syndication, AMP and print copies differ from it.
APPENDED_SENTENCE = " This story has been updated with a response from the company."
APPENDED_BOILERPLATE = "\n\nShare this article\n\n© 2019 Example Media Group. All rights reserved."
LIGHT_DROP_SHARE = 0.05  # a paragraph holding at most 5% of the words: "long article" edits
DROPS_PER_ARTICLE = 12  # spread over the article; all 1,139 drops take 3 s (see archive/catalogue/dedup.py)


def restyle(text: str) -> str:
    """Curly quotes, doubled spaces after sentences and padded paragraph breaks."""
    return (
        text.replace('"', "\u201c").replace("'", "\u2019").replace(". ", ".  ").replace("\n\n", "\n \n")
    )


def test_normalise_text_ignores_form() -> None:
    assert normalise_text("  The  \u201cBudget\u201d\n\nvote\u2014isn\u2019t   over. ") == "the budget vote isn t over"
    assert normalise_text('The "budget" vote - isn\'t over!') == "the budget vote isn t over"
    assert normalise_text("ＡＢＣ ﬁnance Straße") == "abc finance strasse"  # NFKC, casefold
    assert normalise_text("hyphen\u00adation zero\u200bwidth") == "hyphenation zerowidth"
    assert normalise_text("") == ""


def test_normalise_text_keeps_words_with_combining_marks() -> None:
    # Python's \w excludes combining marks; they must not split Hindi or vowelled Arabic.
    assert word_tokens("हिन्दी समाचार, كَتَبَ!") == ["हिन्दी", "समाचार", "كَتَبَ"]


def test_content_hash_equal_for_same_text_only() -> None:
    a = content_hash("The budget vote isn't over.\n\nMPs return on Monday.")
    assert a == content_hash("the  budget vote isn\u2019t over\nMPs return on monday")
    assert a != content_hash("The budget vote is over.\n\nMPs return on Monday.")
    assert len(a) == 40 and int(a, 16) >= 0


def reference_simhash(text: str) -> int:
    """SimHash spelt out bit by bit, to check the fast column counting against."""
    words = word_tokens(text)
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    votes = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            votes[bit] += 1 if value >> bit & 1 else -1
    unsigned = sum(1 << bit for bit in range(64) if votes[bit] > 0)
    return unsigned - 2**64 if unsigned >= 2**63 else unsigned


@pytest.mark.parametrize(
    "text",
    ["", "one", "one two", "one two three", "The budget vote is not over, and MPs return on Monday.", "a b " * 40],
)
def test_simhash_counts_bits_like_the_reference(text: str) -> None:
    assert simhash(text) == reference_simhash(text)


def test_simhash_is_stable_and_signed_64_bit() -> None:
    # Stored in the catalogue: a change of value here orphans every stored fingerprint.
    assert simhash("The budget vote is not over, and MPs return on Monday to vote again.") == 968927985711793157
    hashes = [simhash(f"story number {i} about the budget vote and its aftermath") for i in range(50)]
    assert all(-(2**63) <= h < 2**63 for h in hashes)
    assert any(h < 0 for h in hashes)


def test_simhash_of_short_and_empty_text() -> None:
    assert simhash("") == simhash("   ") == simhash("...")
    assert simhash("one two") != simhash("two one")


def test_hamming_works_on_signed_values() -> None:
    assert hamming(-1, 0) == 64
    assert hamming(-(2**63), 0) == 1
    assert hamming(5, 5) == 0
    assert hamming(0b1011, 0b0001) == 2


def test_is_near_duplicate_boundary() -> None:
    h = simhash("a text")
    assert is_near_duplicate(h, h ^ ((1 << NEAR_DUPLICATE_DISTANCE) - 1))
    assert not is_near_duplicate(h, h ^ ((1 << (NEAR_DUPLICATE_DISTANCE + 1)) - 1))


def test_bands_split_the_unsigned_hash() -> None:
    assert simhash_bands(-1) == (0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)
    assert simhash_bands(0x0001_0002_0003_0004) == (1, 2, 3, 4)
    assert simhash_bands(-(2**63)) == (0x8000, 0, 0, 0)


def test_band_probes_find_every_near_duplicate() -> None:
    rng = random.Random(7)
    values_per_band = sum(math.comb(16, r) for r in range(BAND_PROBE_RADIUS + 1))
    for _ in range(300):
        h = rng.getrandbits(64) - 2**63
        probes = [set(p) for p in band_probes(h)]
        assert [len(p) for p in probes] == [values_per_band] * 4
        flipped = rng.sample(range(64), rng.randint(0, NEAR_DUPLICATE_DISTANCE))
        other = h ^ sum(1 << bit for bit in flipped)
        other -= (1 << 64) if other >= 2**63 else 0
        assert is_near_duplicate(h, other)
        assert any(band in probe for band, probe in zip(simhash_bands(other), probes))


@pytest.fixture(scope="module")
def article_bodies(datasets_dir: Path) -> list[str]:
    """The articleBody of every articles-dev page: distinct articles (the fixture fails when the datasets are missing)."""
    with (datasets_dir / "articles-dev" / "ground-truth.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["articleBody"] for line in lines]


def test_distinct_articles_are_not_near_duplicates(article_bodies: list[str]) -> None:
    hashes = [simhash(body) for body in article_bodies]
    closest = min(hamming(a, b) for a, b in itertools.combinations(hashes, 2))
    assert closest > NEAR_DUPLICATE_DISTANCE, f"two distinct articles {closest} bits apart"
    assert len({content_hash(body) for body in article_bodies}) == len(article_bodies)


def test_light_edits_are_near_duplicates(article_bodies: list[str]) -> None:
    distances: dict[str, list[int]] = {"sentence": [], "boilerplate": [], "paragraph": []}
    long_enough = [b for b in article_bodies if len(word_tokens(b)) >= MIN_NEAR_DUPLICATE_TOKENS]
    assert len(long_enough) >= 60
    for body in long_enough:
        h = simhash(body)
        assert content_hash(restyle(body)) == content_hash(body)
        distances["sentence"].append(hamming(h, simhash(body + APPENDED_SENTENCE)))
        distances["boilerplate"].append(hamming(h, simhash(body + APPENDED_BOILERPLATE)))
        paragraphs = body.split("\n\n")
        words = len(word_tokens(body))
        small = [i for i, p in enumerate(paragraphs) if len(word_tokens(p)) <= LIGHT_DROP_SHARE * words]
        for i in small[:: max(1, len(small) // DROPS_PER_ARTICLE)]:
            edited = "\n\n".join(paragraphs[:i] + paragraphs[i + 1 :])
            distances["paragraph"].append(hamming(h, simhash(edited)))
    assert len(distances["paragraph"]) > 400
    worst = {kind: max(values) for kind, values in distances.items()}
    assert all(d <= NEAR_DUPLICATE_DISTANCE for d in worst.values()), worst
