"""published with time and zone; stories; which copy is at home

``articles.published_at``: ``published`` as the page states it, ISO 8601 with time and zone
where known (``published`` stays: its day, for filters, facets and sorting); existing rows
get the day they have. ``articles.story_id``: an original and its copies share one (the
original's id). ``articles.at_home``: the page is on its source's own hosts and names no
other site's canonical URL; rows before this revision are taken to be.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, not a batch (SQLite would copy the table and break the full-text triggers).
    op.add_column("articles", sa.Column("published_at", sa.String(length=40), nullable=True))
    op.add_column("articles", sa.Column("story_id", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("at_home", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.execute("UPDATE articles SET story_id = COALESCE(duplicate_of, id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE articles SET published_at = to_char(published, 'YYYY-MM-DD') WHERE published IS NOT NULL")
    else:
        op.execute("UPDATE articles SET published_at = published WHERE published IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_articles_story_id", "articles")
    for column in ("at_home", "story_id", "published_at"):
        op.drop_column("articles", column)  # SQLite 3.35+ drops a column in place
