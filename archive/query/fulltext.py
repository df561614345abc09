"""The search syntax and text folding shared by the SQLite and PostgreSQL full-text indexes.

A search is what people type into a search box: words (all must match), ``"a phrase"``,
``OR`` between alternatives, ``-word`` to exclude, ``word*`` for a prefix. It is parsed
here once, then written as an FTS5 MATCH string or a PostgreSQL ``tsquery`` expression, so
no user text ever reaches either query language unquoted.

Both indexes fold Arabic spelling variants (harakat, tatweel, hamza on alef) that their
tokenizers keep; queries are folded the same way with :func:`fold_arabic`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, bindparam, cast, func
from sqlalchemy.dialects.postgresql import REGCONFIG

ARABIC_FOLDS = (
    ("\u0623", "\u0627"), ("\u0625", "\u0627"), ("\u0622", "\u0627"),  # alef with hamza/madda -> alef
    *((chr(c), "") for c in range(0x064B, 0x0653)),  # harakat: fathatan .. sukun
    ("\u0670", ""),  # superscript alef
    ("\u0640", ""),  # tatweel
)
_FOLD_TABLE = str.maketrans({old: new or None for old, new in ARABIC_FOLDS})

SIMPLE_CONFIG = "newsarchive_simple"  # unstemmed, unaccented: for languages without a stemmer
MAX_TERMS = 32  # a search box query longer than this is a paste accident, not a search
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


class SearchSyntaxError(ValueError):
    """A search that cannot be run; the message says what to change."""


def fold_arabic(text: str) -> str:
    """Text with the Arabic variants folded, as the indexes store it."""
    return text.translate(_FOLD_TABLE)


def pg_translate_args() -> tuple[str, str]:
    """``translate(text, from, to)`` arguments that fold like :func:`fold_arabic` in SQL."""
    replaced = [(old, new) for old, new in ARABIC_FOLDS if new]
    deleted = [old for old, new in ARABIC_FOLDS if not new]
    return "".join(old for old, _ in replaced) + "".join(deleted), "".join(new for _, new in replaced)


@dataclass(frozen=True)
class Term:
    """A word or a phrase; ``prefix`` when its last word is a prefix (``secur*``)."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Clause:
    """Terms that must all match and terms that must not."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Search:
    """Alternatives (``OR``): an article matching any clause matches."""

    clauses: tuple[Clause, ...]


def parse_search(text: str) -> Search:
    """Parse what a person typed; raise SearchSyntaxError when nothing is left to search for."""
    if "\x00" in text:
        raise SearchSyntaxError("the search contains a NUL character")
    clauses: list[Clause] = []
    include: list[Term] = []
    exclude: list[Term] = []
    count = 0
    for match in _TOKEN.finditer(fold_arabic(text)):
        negated, phrase, word = match.groups()
        if word == "OR":
            clauses.append(Clause(tuple(include), tuple(exclude)))
            include, exclude = [], []
            continue
        if word is not None:
            negated = "-" if word.startswith("-") and len(word) > 1 else ""
            word = word.removeprefix("-") if negated else word
            term = Term(word.rstrip("*"), prefix=word.endswith("*"))
        else:
            term = Term(phrase)
        if not any(ch.isalnum() for ch in term.text):
            continue  # punctuation alone matches nothing in either index
        count += 1
        if count > MAX_TERMS:
            raise SearchSyntaxError(f"the search has more than {MAX_TERMS} words: shorten it")
        (exclude if negated else include).append(term)
    clauses.append(Clause(tuple(include), tuple(exclude)))
    if any(clause.exclude and not clause.include for clause in clauses):
        raise SearchSyntaxError("a search cannot only exclude words: add a word to look for")
    kept = tuple(clause for clause in clauses if clause.include)
    if not kept:
        raise SearchSyntaxError(f"nothing to search for in {text!r}: type a word")
    return Search(kept)


def fts5_match(search: Search) -> str:
    """The FTS5 MATCH string: every term a quoted string, so its syntax cannot be injected."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"' + (" *" if term.prefix else "")

    alternatives = []
    for clause in search.clauses:
        expression = "(" + " AND ".join(quoted(t) for t in clause.include) + ")"
        for term in clause.exclude:
            expression = f"({expression} NOT {quoted(term)})"
        alternatives.append(expression)
    return " OR ".join(alternatives)


def pg_term_queries(term: Term, configs: tuple[str, ...]) -> list[ColumnElement]:
    """SQL for the tsquery of a term in each text-search configuration of ``configs`` (those
    the searched articles were indexed with); the user's text is only ever bound.

    A prefix (``secur*``) is matched as written against the stems: stems are mostly
    prefixes of their words, so ``secur*`` finds ``sécurité``.
    """
    if term.prefix:
        lexeme = "'" + term.text.replace("\\", "\\\\").replace("'", "''") + "':*"
        return [func.to_tsquery(_config(SIMPLE_CONFIG), bindparam(None, lexeme))]
    value = bindparam(None, term.text)
    return [func.phraseto_tsquery(_config(config), value) for config in configs]


def pg_tsquery_text(search: Search, parsed: Mapping[Term, Iterable[str]]) -> str | None:
    """The search as one tsquery, from its terms' tsqueries as PostgreSQL wrote them.

    Each term's distinct parses are OR'ed: several configurations mostly parse a word alike,
    and a repeated alternative would make the planner think the word four times as common.
    A term that is only stop words is left out, as PostgreSQL does; None: nothing to match.
    """

    def alternatives(term: Term) -> str | None:
        distinct = sorted({query for query in parsed[term] if query})
        return " | ".join(f"( {query} )" for query in distinct) or None

    clauses = []
    for clause in search.clauses:
        include = [f"( {q} )" for q in map(alternatives, clause.include) if q]
        exclude = [f"!( {q} )" for q in map(alternatives, clause.exclude) if q]
        if include:
            clauses.append(" & ".join(include + exclude))
    return " | ".join(f"( {clause} )" for clause in clauses) or None


def _config(name: str) -> ColumnElement:
    return cast(bindparam(None, name, type_=String), REGCONFIG)


# --- highlighting: the same in Python for both databases, on the text as stored ---------------
_ARABIC_MARKS = "[\u064b-\u0652\u0670\u0640]*"  # what fold_arabic drops may sit after any letter


def _variants() -> dict[str, str]:
    """Lower-case letter -> every Latin letter that folds to it (é, è, ê... for e)."""
    variants: dict[str, set[str]] = {}
    for code in range(0x00C0, 0x0250):
        char = chr(code).lower()
        base = unicodedata.normalize("NFKD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            variants.setdefault(base, {base}).add(char)
    variants["\u0627"] = {"\u0627", "\u0623", "\u0625", "\u0622"}
    return {base: "".join(sorted(chars)) for base, chars in variants.items()}


_VARIANTS = _variants()


def _word_pattern(word: str) -> str:
    parts = []
    for char in word.lower():
        chars = _VARIANTS.get(char)
        part = f"[{re.escape(chars)}]" if chars else re.escape(char)
        parts.append(part + (_ARABIC_MARKS if "\u0600" <= char <= "\u06ff" else ""))
    return "".join(parts)


def highlighter(search: Search) -> re.Pattern[str] | None:
    """A pattern finding the searched words in text as written: any case, accents, harakat."""
    words: dict[str, bool] = {}
    for clause in search.clauses:
        for term in clause.include:
            plain = "".join(ch for ch in unicodedata.normalize("NFKD", term.text) if not unicodedata.combining(ch))
            found = _WORD.findall(plain)
            for i, word in enumerate(found):
                if len(word) > 1 or len(found) == 1:
                    words[word] = words.get(word, False) or (term.prefix and i == len(found) - 1)
    if not words:
        return None
    alternatives = sorted((_word_pattern(w) + (r"\w*" if prefix else "") for w, prefix in words.items()),
                          key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def mark(text: str, pattern: re.Pattern[str] | None) -> str:
    """``text`` as HTML, the pattern's matches in ``<mark>``."""
    if pattern is None:
        return html.escape(text, quote=False)
    out, position = [], 0
    for found in pattern.finditer(text):
        out += [html.escape(text[position:found.start()], quote=False),
                "<mark>", html.escape(found.group(), quote=False), "</mark>"]
        position = found.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def snippet(text: str, pattern: re.Pattern[str] | None, width: int = 240) -> str:
    """About ``width`` characters of ``text`` around its first match (its start without one), as HTML."""
    text = " ".join(text.split())
    found = pattern.search(text) if pattern else None
    start = 0
    if found and found.start() > width // 4:
        start = text.rfind(" ", 0, found.start() - width // 4) + 1
    end = len(text) if len(text) - start <= width else text.rfind(" ", start, start + width)
    end = end if end > start else start + width
    return ("… " if start else "") + mark(text[start:end], pattern) + (" …" if end < len(text) else "")
