"""profile voice: about me, ask me about, and which profile fields people entered themselves

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
# autogenerate writes sqlmodel.sql.sqltypes.AutoString: import that module itself, so type checkers see it
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_LIST = sa.text("'[]'")  # existing rows: nobody has entered anything themselves yet


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table): SQLite adds a NOT NULL column with a constant default in
    # place, and copying tandem_user would trip the foreign keys that point at it.
    op.add_column('tandem_user', sa.Column('about_me', sqlmodel.sql.sqltypes.AutoString(length=280), nullable=True))
    op.add_column('tandem_user', sa.Column('ask_me_about', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column('tandem_user', sa.Column('self_entered', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
    op.add_column('membership', sa.Column('self_entered', sa.JSON(), nullable=False, server_default=EMPTY_LIST))


def downgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('self_entered')
    with op.batch_alter_table('tandem_user', schema=None) as batch_op:
        batch_op.drop_column('self_entered')
        batch_op.drop_column('ask_me_about')
        batch_op.drop_column('about_me')
