"""full-text search and query indexes

SQLite: an FTS5 external-content table over the articles' title, description and text,
kept in step by triggers. Its content is a view that folds Arabic spelling variants
(harakat, tatweel, hamza on alef) the ``unicode61`` tokenizer leaves alone, while
``remove_diacritics 2`` folds Latin accents, so ``securite`` finds ``sécurité``.

PostgreSQL: a stored generated ``search_vector`` column with a GIN index, each article
indexed with its language's configuration: ``newsarchive_french`` etc., the built-in
stemming ones plus ``unaccent``, or ``newsarchive_simple`` (unaccent only) for a language
PostgreSQL has none for. A search is parsed with the configurations of the languages
searched (archive.query.fulltext), so it matches inflections too. Arabic is folded as on SQLite,
by ``translate``.

Both: composite indexes for the common listing (a source, newest first) and the facets.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of archive.query.fulltext's ARABIC_FOLDS and pg_translate_args as they were
# when this migration was written. A migration must make the same triggers and columns
# whenever it runs: were it to read the live constant, an edit of it would give new
# databases another index than old ones. A new fold needs a new migration that re-indexes
# (and tests/archive/catalogue/test_migrations.py pointed at it).
ARABIC_FOLDS = (
    ("\u0623", "\u0627"), ("\u0625", "\u0627"), ("\u0622", "\u0627"),  # alef with hamza/madda -> alef
    ("\u064b", ""), ("\u064c", ""), ("\u064d", ""), ("\u064e", ""),  # harakat: fathatan ..
    ("\u064f", ""), ("\u0650", ""), ("\u0651", ""), ("\u0652", ""),  # .. sukun
    ("\u0670", ""),  # superscript alef
    ("\u0640", ""),  # tatweel
)


def pg_translate_args() -> tuple[str, str]:
    """``translate(text, from, to)`` arguments that fold as ARABIC_FOLDS in SQL."""
    replaced = [(old, new) for old, new in ARABIC_FOLDS if new]
    deleted = [old for old, new in ARABIC_FOLDS if not new]
    return "".join(old for old, _ in replaced) + "".join(deleted), "".join(new for _, new in replaced)

# ISO 639-1 code -> the PostgreSQL text-search configuration of that language. Languages
# whose configuration the server lacks fall back to newsarchive_simple.
PG_LANGUAGES = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french",
    "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian",
    "it": "italian", "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}

# Listing newest first, of one source or all, and counting per day, source and language.
# An undated article sorts as the oldest: SQLite's order; PostgreSQL's indexes say it.
INDEXES = {
    "sqlite": (
        ("ix_articles_source_published", "source_id, published, id"),
        ("ix_articles_source_first_seen", "source_id, first_seen, id"),
        ("ix_articles_published_id", "published, id"),
        ("ix_articles_facets", "published, source_id, language, duplicate_of"),
    ),
    "postgresql": (
        ("ix_articles_source_published", "source_id, published DESC NULLS LAST, id DESC"),
        ("ix_articles_source_first_seen", "source_id, first_seen, id"),
        ("ix_articles_published_id", "published DESC NULLS LAST, id DESC"),
        ("ix_articles_facets", "published, source_id, language, duplicate_of"),
    ),
}


FTS_COLUMNS = ("title", "description", "text")


def _sqlite_folded(prefix: str) -> list[str]:
    """SQL expressions of the indexed columns of ``prefix`` (a row alias), Arabic folded."""
    expressions = []
    for column in FTS_COLUMNS:
        expression = f"coalesce({prefix}{column}, '')"
        for old, new in ARABIC_FOLDS:
            expression = f"replace({expression}, '{old}', '{new}')"
        expressions.append(expression)
    return expressions


def _sqlite_upgrade() -> None:
    view_columns = ", ".join(f"{e} AS {c}" for e, c in zip(_sqlite_folded(""), FTS_COLUMNS, strict=True))
    op.execute(f"CREATE VIEW articles_fts_content AS SELECT id, {view_columns} FROM articles")
    op.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, description, text, "
        "content='articles_fts_content', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    insert = (f"INSERT INTO articles_fts(rowid, title, description, text) "
              f"VALUES (new.id, {', '.join(_sqlite_folded('new.'))});")
    delete = (f"INSERT INTO articles_fts(articles_fts, rowid, title, description, text) "
              f"VALUES ('delete', old.id, {', '.join(_sqlite_folded('old.'))});")
    op.execute(f"CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, description, text ON articles "
               f"BEGIN {delete} {insert} END")
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def _postgresql_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION newsarchive_simple (COPY = pg_catalog.simple)")
    op.execute("ALTER TEXT SEARCH CONFIGURATION newsarchive_simple "
               "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple")
    available = {row[0] for row in op.get_bind().exec_driver_sql(
        "SELECT cfgname FROM pg_ts_config WHERE cfgnamespace = 'pg_catalog'::regnamespace")}
    cases = []
    for name in sorted(set(PG_LANGUAGES.values()) & available):
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION newsarchive_{name} (COPY = pg_catalog.{name})")
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION newsarchive_{name} "
                   f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {name}_stem")
    for code, name in sorted(PG_LANGUAGES.items()):
        if name in available:
            cases.append(f"WHEN '{code}' THEN 'newsarchive_{name}'")
    # IMMUTABLE so a generated column may call it: the mapping only changes by migration.
    op.execute(f"""
        CREATE FUNCTION newsarchive_ts_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT (CASE lower(split_part(language, '-', 1)) {' '.join(cases)}
                      ELSE 'newsarchive_simple' END)::regconfig $$""")

    fold_from, fold_to = pg_translate_args()
    vector = " || ".join(
        f"setweight(to_tsvector(newsarchive_ts_config(language), "
        f"translate(coalesce({column}, ''), '{fold_from}', '{fold_to}')), '{weight}')"
        for column, weight in (("title", "A"), ("description", "B"), ("body", "C"))
    )
    op.execute(f"""
        CREATE FUNCTION newsarchive_search_vector(language text, title text, description text, body text)
        RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {vector} $$""")
    op.execute("ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
               "(newsarchive_search_vector(language, title, description, text)) STORED")
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()
    for name, columns in INDEXES[op.get_bind().dialect.name]:
        op.execute(f"CREATE INDEX {name} ON articles ({columns})")


def downgrade() -> None:
    for name, _ in INDEXES[op.get_bind().dialect.name]:
        op.execute(f"DROP INDEX {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN search_vector")
        op.execute("DROP FUNCTION newsarchive_search_vector(text, text, text, text)")
        op.execute("DROP FUNCTION newsarchive_ts_config(text)")
        available = {row[0] for row in op.get_bind().exec_driver_sql(
            "SELECT cfgname FROM pg_ts_config WHERE starts_with(cfgname, 'newsarchive_')")}
        for name in sorted(available):
            op.execute(f"DROP TEXT SEARCH CONFIGURATION {name}")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER articles_fts_{trigger}")
        op.execute("DROP TABLE articles_fts")
        op.execute("DROP VIEW articles_fts_content")
