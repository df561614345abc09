"""captures.urlkey compares byte-wise on PostgreSQL, so every CDX match type uses its index

A CDX query is a range of SURT urlkeys (``com,example)/news/`` up to ``com,example)/news0``),
and those ranges assume byte order. PostgreSQL's default collation is the database locale's,
so the range had to be written ``urlkey COLLATE "C"``, which the ``(urlkey, timestamp)``
index (built in the locale's order) cannot answer: every prefix, host and domain query read
the whole table. With the column itself in the "C" collation the index is in byte order and
answers all four match types. SQLite compares text byte-wise already (BINARY): nothing to do.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # the index on (urlkey, timestamp) is rebuilt with it
        op.execute('ALTER TABLE captures ALTER COLUMN urlkey TYPE text COLLATE "C"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE captures ALTER COLUMN urlkey TYPE text COLLATE "default"')
