"""Alembic environment: runs on the connection the Catalogue hands over, or on -x db=URL."""

from alembic import context
from sqlalchemy import create_engine

from archive.catalogue.models import Base

config = context.config
target_metadata = Base.metadata
# Made by 0002_fulltext, 0007 (sort indexes) and 0008_article_counts in SQL that no model
# declares (FTS5 tables, the tsvector column, indexes): autogenerate must not offer to drop them.
FULLTEXT_OBJECTS = frozenset({
    "articles_fts", "articles_fts_content", "articles_fts_data", "articles_fts_idx", "articles_fts_docsize",
    "articles_fts_config", "search_vector", "ix_articles_search_vector", "ix_articles_source_published",
    "ix_articles_source_first_seen", "ix_articles_published_id", "ix_articles_facets",
    "ix_articles_source_published_order", "ix_articles_published_order_id",
    # 0008's indexes on expressions, which the count triggers' upserts name
    "ux_article_counts_group", "ux_article_day_source_counts_group", "ux_article_day_language_counts_group",
})


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:  # type: ignore[type-arg]
    return name not in FULLTEXT_OBJECTS


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite can only ALTER tables by copying them, which batch mode does.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
