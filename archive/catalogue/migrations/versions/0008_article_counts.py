"""article counts per published day, source and language, kept by triggers

Facets of the whole catalogue (or of sources, languages and a date range) were a grouped
scan of every article: 416 ms at a million on SQLite. The groups are few (days x sources x
languages), so the counts are kept beside the articles, per group: ``articles`` all of them,
``unique_articles`` those that are not duplicates (``duplicate_of`` IS NULL, what ``--unique``
keeps); in ``article_counts`` per day, source and language, and summed over languages and
over sources in two narrower tables (GROUPINGS). Triggers on articles keep all three in step
in the writer's own transaction: an insert adds one to its groups, a delete takes one away,
an update of the grouped columns or of ``duplicate_of`` moves the article from its old
groups to its new ones; a group that falls to zero is deleted. Backfilled here.

A group's day or language may be NULL (undated, language unknown), and a unique index
treats NULLs as distinct: the index that the triggers' upsert names is on expressions
that are never NULL (the value or a stand-in, and whether it is NULL), on both databases.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Each table counts the articles of one grouping. The full one answers any filter by source,
# language and dates; the two narrower ones hold the rows the whole catalogue's facets read:
# per day and source (its chart, sources and days), per day and language (its languages),
# at a million articles 22,000 and 3,300 rows instead of the full one's 66,000.
GROUPINGS = {
    "article_counts": ("published", "source_id", "language"),
    "article_day_source_counts": ("published", "source_id"),
    "article_day_language_counts": ("published", "language"),
}
COLUMN_TYPES = {"published": "DATE", "source_id": "INTEGER NOT NULL REFERENCES sources (id)", "language": "VARCHAR(16)"}
# What a NULL stands in as in a group index: any value of the column's type (the "IS NULL"
# beside it keeps it apart from a real one). source_id is never NULL.
NULL_AS = {("sqlite", "published"): "''", ("postgresql", "published"): "'-infinity'::date",
           ("sqlite", "language"): "''", ("postgresql", "language"): "''"}


def _group_key(dialect: str, columns: tuple[str, ...], row: str = "") -> list[str]:
    """A group index's expressions, of the table's columns or of a row's (``row``: ``new.``)."""
    key = []
    for column in columns:
        if column == "source_id":
            key.append(f"{row}{column}")
        else:
            key += [f"coalesce({row}{column}, {NULL_AS[dialect, column]})", f"({row}{column} IS NULL)"]
    return key


def _same_group(dialect: str, columns: tuple[str, ...], row: str) -> str:
    """WHERE the count row is the group of ``row`` (through the group index)."""
    return " AND ".join(f"{column} = {value}" for column, value in
                        zip(_group_key(dialect, columns), _group_key(dialect, columns, row), strict=True))


def _add(dialect: str, row: str) -> str:
    unique = f"CASE WHEN {row}duplicate_of IS NULL THEN 1 ELSE 0 END"
    return " ".join(
        f"INSERT INTO {table} ({', '.join(columns)}, articles, unique_articles) "
        f"VALUES ({', '.join(row + column for column in columns)}, 1, {unique}) "
        f"ON CONFLICT ({', '.join(_group_key(dialect, columns))}) DO UPDATE SET "
        f"articles = {table}.articles + 1, unique_articles = {table}.unique_articles + excluded.unique_articles;"
        for table, columns in GROUPINGS.items())


def _remove(dialect: str, row: str) -> str:
    unique = f"CASE WHEN {row}duplicate_of IS NULL THEN 1 ELSE 0 END"
    return " ".join(
        f"UPDATE {table} SET articles = articles - 1, unique_articles = unique_articles - {unique} "
        f"WHERE {_same_group(dialect, columns, row)}; "
        f"DELETE FROM {table} WHERE articles = 0 AND {_same_group(dialect, columns, row)};"
        for table, columns in GROUPINGS.items())


# An update that leaves the group and the duplicate state as they were changes no count.
MOVED = ("old.published IS DISTINCT FROM new.published OR old.source_id IS DISTINCT FROM new.source_id "
         "OR old.language IS DISTINCT FROM new.language "
         "OR (old.duplicate_of IS NULL) <> (new.duplicate_of IS NULL)")
GROUPED = "published, source_id, language, duplicate_of"  # the columns whose update may move counts


def _sqlite_triggers() -> None:
    moved = MOVED.replace("IS DISTINCT FROM", "IS NOT")
    op.execute(f"CREATE TRIGGER article_counts_insert AFTER INSERT ON articles BEGIN {_add('sqlite', 'new.')} END")
    op.execute(f"CREATE TRIGGER article_counts_delete AFTER DELETE ON articles BEGIN {_remove('sqlite', 'old.')} END")
    op.execute(f"CREATE TRIGGER article_counts_update AFTER UPDATE OF {GROUPED} ON articles "
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
    op.execute(f"CREATE TRIGGER article_counts_update AFTER UPDATE OF {GROUPED} ON articles "
               f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION newsarchive_count_articles()")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, columns in GROUPINGS.items():
        op.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {COLUMN_TYPES[c]}' for c in columns)}, "
                   "articles INTEGER NOT NULL, unique_articles INTEGER NOT NULL)")
        op.execute(f"CREATE UNIQUE INDEX ux_{table}_group ON {table} ({', '.join(_group_key(dialect, columns))})")
        # in date order, counts included: a date range's rows, read without the table
        op.execute(f"CREATE INDEX ix_{table}_published ON {table} ({', '.join(columns)}, articles, unique_articles)")
        op.execute(f"INSERT INTO {table} ({', '.join(columns)}, articles, unique_articles) "
                   f"SELECT {', '.join(columns)}, count(*), count(*) - count(duplicate_of) "
                   f"FROM articles GROUP BY {', '.join(columns)}")
    (_postgresql_triggers if dialect == "postgresql" else _sqlite_triggers)()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER article_counts_insert_delete ON articles")
        op.execute("DROP TRIGGER article_counts_update ON articles")
        op.execute("DROP FUNCTION newsarchive_count_articles()")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER article_counts_{trigger}")
    for table in GROUPINGS:
        op.execute(f"DROP TABLE {table}")
