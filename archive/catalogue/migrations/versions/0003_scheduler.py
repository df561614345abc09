"""crawl runs count their 304s

``crawl_runs.not_modified``: navigation pages (feeds, sitemaps, sections, robots.txt) a
recrawl's conditional GET found unchanged. Runs recorded before it count none.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("not_modified", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("not_modified")
