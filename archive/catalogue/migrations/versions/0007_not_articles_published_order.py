"""not-article memory; newest first by the instant published within a day

``not_articles``: the URLs of a source that matched its article rule but held no article
when fetched (galleries, live pages, indexes), so a crawl does not fetch them again.
``crawl_runs.not_articles``: how many such pages a run fetched.
``articles.published_order``: the sort key of "newest first", ``published_at``'s day then
its UTC instant where a time and zone are stated (``published_at`` strings with different
zones do not sort as instants); existing rows get theirs from ``published_at``, computed by
this revision's frozen copy of ``archive.catalogue.identity.published_order`` (a test keeps
the two in agreement). The sort indexes on ``published`` move to ``published_order``.

Revision ID: 0007
Revises: 0006
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL_ROWS = 10_000  # articles updated per statement

# Listing newest first, of one source or all; an undated article sorts as the oldest (0002's rule).
OLD_INDEXES = {
    "sqlite": (("ix_articles_source_published", "source_id, published, id"),
               ("ix_articles_published_id", "published, id")),
    "postgresql": (("ix_articles_source_published", "source_id, published DESC NULLS LAST, id DESC"),
                   ("ix_articles_published_id", "published DESC NULLS LAST, id DESC")),
}
INDEXES = {
    "sqlite": (("ix_articles_source_published_order", "source_id, published_order, id"),
               ("ix_articles_published_order_id", "published_order, id")),
    "postgresql": (("ix_articles_source_published_order", "source_id, published_order DESC NULLS LAST, id DESC"),
                   ("ix_articles_published_order_id", "published_order DESC NULLS LAST, id DESC")),
}


def published_order(published: str | None) -> str | None:
    """The stated day, then the UTC instant within it where a time and zone are stated."""
    try:
        day = date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None
    if day is None:
        return None
    try:
        stated = datetime.fromisoformat(published.replace("Z", "+00:00")) if len(published) > 10 else None
    except ValueError:
        stated = None
    if stated is None or stated.tzinfo is None:
        return day.isoformat()
    return f"{day.isoformat()} {stated.astimezone(UTC):%Y-%m-%dT%H:%M:%S}"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "not_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url_key", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "url_key"),
    )
    op.add_column("crawl_runs", sa.Column("not_articles", sa.Integer(), nullable=False, server_default="0"))
    # ADD COLUMN, not a batch (SQLite would copy the table and break the full-text triggers).
    order_type = sa.String(length=40, collation="C") if dialect == "postgresql" else sa.String(length=40)
    op.add_column("articles", sa.Column("published_order", order_type, nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, published_at FROM articles WHERE published_at IS NOT NULL")).all()
    update = sa.text("UPDATE articles SET published_order = :published_order WHERE id = :id")
    for start in range(0, len(rows), BACKFILL_ROWS):
        connection.execute(update, [{"id": id_, "published_order": published_order(published)}
                                    for id_, published in rows[start:start + BACKFILL_ROWS]])
    for name, _ in OLD_INDEXES[dialect]:
        op.execute(f"DROP INDEX {name}")
    for name, columns in INDEXES[dialect]:
        op.execute(f"CREATE INDEX {name} ON articles ({columns})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, _ in INDEXES[dialect]:
        op.execute(f"DROP INDEX {name}")
    for name, columns in OLD_INDEXES[dialect]:
        op.execute(f"CREATE INDEX {name} ON articles ({columns})")
    op.drop_column("articles", "published_order")  # SQLite 3.35+ drops a column in place
    op.drop_column("crawl_runs", "not_articles")
    op.drop_table("not_articles")
