"""crawl runs are alive by a heartbeat

``crawl_runs.host``: the host name (``Settings.host``) of the crawl process, so a pid is
only ever looked up on the machine it belongs to. ``crawl_runs.heartbeat``: naive UTC time
of the crawl's last sign of life, written every few seconds; a run whose heartbeat is older
than the timeout is dead. Runs recorded before have neither: a running one is judged by its
``started`` time (crawls of an older version do not beat: upgrade every host together).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("heartbeat", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("heartbeat")
        batch_op.drop_column("host")
