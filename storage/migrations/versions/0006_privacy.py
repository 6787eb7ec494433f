"""privacy: when each person was last active, for the retention limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tandem_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_active_at', storage.types.UTCDateTime(), nullable=True))
    # people already known count as active when their row last changed (or was made): the clock starts now-ish
    op.execute('UPDATE tandem_user SET last_active_at = COALESCE(updated_at, created_at)')


def downgrade() -> None:
    with op.batch_alter_table('tandem_user', schema=None) as batch_op:
        batch_op.drop_column('last_active_at')
