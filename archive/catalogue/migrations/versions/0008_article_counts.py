"""article_counts: the articles per published day, source and language, kept by triggers

Facets of the whole catalogue (or of sources, languages and a date range) were a grouped
scan of every article: 416 ms at a million on SQLite. The groups are few (days x sources x
languages), so the counts are kept beside the articles, per group: ``articles`` all of them,
``unique_articles`` those that are not duplicates (``duplicate_of`` IS NULL, what ``--unique``
keeps). Triggers on articles keep them in step in the writer's own transaction: an insert
adds one to its group, a delete takes one away, an update of the grouped columns or of
``duplicate_of`` moves the article from its old group to its new one; a group that falls
to zero is deleted. Backfilled here from the articles.

A group's day or language may be NULL (undated, language unknown), and a unique index
treats NULLs as distinct: the index that the triggers' upsert names is on expressions
that are never NULL (the value or a stand-in, and whether it is NULL), on both databases.

Revision ID: 0008
Revises: 0006
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

GROUP = ("published", "source_id", "language")
# What a NULL day stands in as in the group index: any value of the column's type (the
# "IS NULL" beside it keeps it apart from a real one).
NULL_DAY = {"sqlite": "''", "postgresql": "'-infinity'::date"}


def _group_key(dialect: str, row: str = "") -> list[str]:
    """The unique group index's expressions, of the table's columns or of a row (``new.``)."""
    day, language = f"{row}published", f"{row}language"
    return [f"{row}source_id", f"coalesce({day}, {NULL_DAY[dialect]})", f"({day} IS NULL)",
            f"coalesce({language}, '')", f"({language} IS NULL)"]


def _same_group(dialect: str, row: str) -> str:
    """WHERE the article_counts row is the group of ``row`` (through the group index)."""
    return " AND ".join(f"{column} = {value}"
                        for column, value in zip(_group_key(dialect), _group_key(dialect, row), strict=True))


def _add(dialect: str, row: str) -> str:
    unique = f"CASE WHEN {row}duplicate_of IS NULL THEN 1 ELSE 0 END"
    return (f"INSERT INTO article_counts (published, source_id, language, articles, unique_articles) "
            f"VALUES ({row}published, {row}source_id, {row}language, 1, {unique}) "
            f"ON CONFLICT ({', '.join(_group_key(dialect))}) DO UPDATE SET "
            "articles = article_counts.articles + 1, "
            "unique_articles = article_counts.unique_articles + excluded.unique_articles;")


def _remove(dialect: str, row: str) -> str:
    unique = f"CASE WHEN {row}duplicate_of IS NULL THEN 1 ELSE 0 END"
    return (f"UPDATE article_counts SET articles = articles - 1, unique_articles = unique_articles - {unique} "
            f"WHERE {_same_group(dialect, row)}; "
            f"DELETE FROM article_counts WHERE articles = 0 AND {_same_group(dialect, row)};")


# An update that leaves the group and the duplicate state as they were changes no count.
MOVED = ("old.published IS DISTINCT FROM new.published OR old.source_id IS DISTINCT FROM new.source_id "
         "OR old.language IS DISTINCT FROM new.language "
         "OR (old.duplicate_of IS NULL) <> (new.duplicate_of IS NULL)")


def _sqlite_triggers() -> None:
    moved = MOVED.replace("IS DISTINCT FROM", "IS NOT")
    op.execute(f"CREATE TRIGGER article_counts_insert AFTER INSERT ON articles BEGIN {_add('sqlite', 'new.')} END")
    op.execute(f"CREATE TRIGGER article_counts_delete AFTER DELETE ON articles BEGIN {_remove('sqlite', 'old.')} END")
    op.execute(f"CREATE TRIGGER article_counts_update AFTER UPDATE OF {', '.join(GROUP)}, duplicate_of ON articles "
               f"WHEN {moved} BEGIN {_remove('sqlite', 'old.')} {_add('sqlite', 'new.')} END")


def _postgresql_triggers() -> None:
    op.execute(f"""
        CREATE FUNCTION newsarchive_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove('postgresql', 'OLD.')} END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('postgresql', 'NEW.')} END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER article_counts_insert_delete AFTER INSERT OR DELETE ON articles "
               "FOR EACH ROW EXECUTE FUNCTION newsarchive_count_articles()")
    op.execute(f"CREATE TRIGGER article_counts_update AFTER UPDATE OF {', '.join(GROUP)}, duplicate_of ON articles "
               f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION newsarchive_count_articles()")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("""
        CREATE TABLE article_counts (
            published DATE,
            source_id INTEGER NOT NULL REFERENCES sources (id),
            language VARCHAR(16),
            articles INTEGER NOT NULL,
            unique_articles INTEGER NOT NULL)""")
    op.execute(f"CREATE UNIQUE INDEX ux_article_counts_group ON article_counts ({', '.join(_group_key(dialect))})")
    op.execute("CREATE INDEX ix_article_counts_published ON article_counts (published)")  # date ranges
    (_postgresql_triggers if dialect == "postgresql" else _sqlite_triggers)()
    op.execute(f"""
        INSERT INTO article_counts (published, source_id, language, articles, unique_articles)
        SELECT {', '.join(GROUP)}, count(*), count(*) - count(duplicate_of)
        FROM articles GROUP BY {', '.join(GROUP)}""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER article_counts_insert_delete ON articles")
        op.execute("DROP TRIGGER article_counts_update ON articles")
        op.execute("DROP FUNCTION newsarchive_count_articles()")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER article_counts_{trigger}")
    op.execute("DROP TABLE article_counts")
