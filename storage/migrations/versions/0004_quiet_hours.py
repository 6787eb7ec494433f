"""quiet hours, the day's digest and the weekly cap

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
# autogenerate writes sqlmodel.sql.sqltypes.AutoString: import that module itself, so type checkers see it
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

import storage.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tandem_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False, server_default='08:00'))
        batch_op.add_column(sa.Column('day_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False, server_default='20:00'))
        batch_op.add_column(sa.Column('weekend', sa.JSON(), nullable=False, server_default='[5, 6]'))
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weekly_cap', sa.Integer(), nullable=False, server_default='4'))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('held_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('counted_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_delivery_digest_id'), ['digest_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_digest_id'))
        batch_op.drop_column('digest_id')
        batch_op.drop_column('counted_at')
        batch_op.drop_column('held_reason')
        batch_op.drop_column('held_at')
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.drop_column('weekly_cap')
    with op.batch_alter_table('tandem_user', schema=None) as batch_op:
        batch_op.drop_column('weekend')
        batch_op.drop_column('day_end')
        batch_op.drop_column('day_start')
