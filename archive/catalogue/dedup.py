"""Text fingerprints for the deduplicated catalogue: exact content hashes and SimHash.

The catalogue links an article whose text was already stored under another canonical URL
(syndication, AMP, print pages) to the first one: :func:`content_hash` finds the same text
exactly, :func:`simhash` the same text lightly edited (a paragraph missing, a sentence or
a boilerplate line added). SimHash values are stored as signed 64-bit integers (SQL
BIGINT) with four 16-bit bands in indexed columns; :func:`band_probes` lists the band
values to look up so that every stored hash within NEAR_DUPLICATE_DISTANCE is found.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass

SHINGLE_SIZE = 3  # words a shingle: with single words, unrelated articles come within 7
# bits of each other (common words dominate); 2- to 5-word shingles all keep them 16+ bits
# apart on articles-dev, with no better spread for edits, so the usual 3.

# Calibrated on the 69 article bodies of shared/datasets/articles-dev (the test re-checks):
# - distinct articles, all 2,346 pairs: minimum Hamming distance 18 (1st percentile 23,
#   median 32, as for independent random hashes), three outlets' reports of the same
#   plague case included;
# - light edits, for the 64 bodies of >= MIN_NEAR_DUPLICATE_TOKENS words: quote-style and
#   whitespace changes 0 (normalise_text absorbs them); a sentence appended 0-9 (median
#   3); "Share this article" and a copyright line appended 0-8 (median 2); one paragraph
#   holding <= 5% of the words dropped, 1,139 cases: 0-9 (median 2, 95th percentile 6).
# Distance 3, which four exact 16-bit bands would allow, catches only 77% of those: a
# SimHash bit flips with probability angle/pi, so losing 5% of the shingles flips 4.6 of
# 64 bits on average (binomially spread). 9 catches all of them, 9 bits below the closest
# distinct pair; a paragraph over 5% of the text (median 6, up to 22) is past "light".
# Cost, from the binomial model: two unrelated hashes fall within 9 bits with probability
# 1.8e-9, so against a million stored articles 0.2% of new ones meet a false candidate;
# and a 5% edit is missed 1.5% of the time (a 10% edit 12%). 11 (same probe radius) would
# miss 0.2% of 5% edits but meet 28 times more false candidates: confirm candidates on
# their texts before raising it.
NEAR_DUPLICATE_DISTANCE = 9

# Below this many words one appended sentence is over 7% of the text: on the five
# articles-dev bodies of 92-115 words, an appended sentence or boilerplate moved the hash
# up to 11 bits. Such texts are matched by content_hash only.
MIN_NEAR_DUPLICATE_TOKENS = 150

BANDS = 4
BAND_BITS = 16
# Two hashes within NEAR_DUPLICATE_DISTANCE bits differ in at most this many bits in at
# least one of the BANDS bands (pigeonhole), so looking up each band's values within
# this radius finds every near-duplicate: 137 values a band for radius 2.
BAND_PROBE_RADIUS = NEAR_DUPLICATE_DISTANCE // BANDS

_MASK64 = (1 << 64) - 1
_BAND_MASK = (1 << BAND_BITS) - 1
_BIT_IS_SET = tuple(bytes((value >> bit) & 1 for value in range(256)) for bit in range(8))
_BAND_FLIPS = tuple(  # every 16-bit mask of at most BAND_PROBE_RADIUS bits, 0 first
    sum(1 << bit for bit in bits)
    for radius in range(BAND_PROBE_RADIUS + 1)
    for bits in itertools.combinations(range(BAND_BITS), radius)
)
_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]|_")


def normalise_text(text: str) -> str:
    """The text as "the same text" compares it: case, Unicode forms, spacing and punctuation ignored.

    Punctuation and symbols become spaces (so ``don't``/``don’t`` and ``well-known``/
    ``well known`` agree), invisible characters such as soft hyphens and zero-width
    spaces vanish, and combining marks stay inside their word.
    """
    # Stored hashes depend on every rule here. Not the same fold, so kept apart: extract's
    # _normalised (\w+ words, cut at combining marks and soft hyphens; using this one would
    # change which lines extraction drops) and the benchmark's folded (punctuation counts).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_NOT_WORD_OR_SPACE.sub(_replace_non_word, folded).split())


def _replace_non_word(match: re.Match[str]) -> str:
    char = match.group()
    category = unicodedata.category(char)
    if category[0] == "C":
        return ""
    return " " if category[0] in "PS" else char  # marks (M*) are not \w but belong to words


def word_tokens(text: str) -> list[str]:
    """The words of the text as SimHash sees them, to count against MIN_NEAR_DUPLICATE_TOKENS.

    Words of the normalised text rather than ``\\w+`` matches: Python's ``\\w`` excludes
    combining marks, which would cut Hindi or vowelled Arabic words into pieces.
    """
    return normalise_text(text).split()


def content_hash(text: str) -> str:
    """SHA-1 hex of the normalised text: equal for texts that differ only in form."""
    return _sha1_hex(normalise_text(text))


def _sha1_hex(normalised: str) -> str:
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()


def simhash(text: str) -> int:
    """64-bit SimHash of the text's word 3-gram shingles, as a signed integer for SQL BIGINT.

    Each shingle is hashed with BLAKE2b (stable across processes, unlike ``hash()``); a bit
    of the result is set when more than half of the shingles have it set.
    """
    return _simhash_of_words(word_tokens(text))


def _simhash_of_words(words: list[str]) -> int:
    shingles = [
        " ".join(words[i : i + SHINGLE_SIZE])
        for i in range(max(1, len(words) - SHINGLE_SIZE + 1))
    ]
    digests = b"".join(
        hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest() for shingle in shingles
    )
    # Count set bits column by column with bytes methods (in C): byte j of every digest,
    # then each of its bits from the most significant, giving the big-endian bit order.
    unsigned = 0
    for j in range(8):
        column = digests[j::8]
        for bit in reversed(range(8)):
            ones = column.translate(_BIT_IS_SET[bit]).count(1)
            unsigned = (unsigned << 1) | (2 * ones > len(shingles))
    return unsigned - (1 << 64) if unsigned >> 63 else unsigned


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes, signed or not."""
    return ((a ^ b) & _MASK64).bit_count()


def is_near_duplicate(a: int, b: int) -> bool:
    """True when two SimHashes are within NEAR_DUPLICATE_DISTANCE bits."""
    return hamming(a, b) <= NEAR_DUPLICATE_DISTANCE


def simhash_bands(h: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of h, most significant first, each 0..65535, to store indexed.

    Equal bands alone find only hashes within 3 bits; look up :func:`band_probes` to find
    every one within NEAR_DUPLICATE_DISTANCE.
    """
    u = h & _MASK64
    return (u >> 48, (u >> 32) & _BAND_MASK, (u >> 16) & _BAND_MASK, u & _BAND_MASK)


def band_probes(h: int) -> tuple[tuple[int, ...], ...]:
    """For each band, the stored values that may belong to a near-duplicate of h.

    A stored hash within NEAR_DUPLICATE_DISTANCE of h has, in at least one band, a value
    within BAND_PROBE_RADIUS bits of h's: ``band0 IN probes[0] OR ... OR band3 IN
    probes[3]``, then :func:`is_near_duplicate` on the candidates, finds them all.
    """
    return tuple(tuple(band ^ flip for flip in _BAND_FLIPS) for band in simhash_bands(h))


@dataclass(frozen=True)
class Fingerprint:
    """What the catalogue compares texts by; computed where the text is extracted, off the crawl's thread."""

    content_hash: str
    simhash: int
    words: int  # near-duplicate matching needs MIN_NEAR_DUPLICATE_TOKENS of them

    @classmethod
    def of(cls, text: str) -> Fingerprint:
        """The text normalised once for all three, not once each: normalising is half the cost."""
        normalised = normalise_text(text)
        words = normalised.split()
        return cls(_sha1_hex(normalised), _simhash_of_words(words), len(words))
