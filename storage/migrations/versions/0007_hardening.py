"""hardening: server heartbeats, so a dead server's claimed deliveries are taken back at once

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
# autogenerate writes sqlmodel.sql.sqltypes.AutoString: import that module itself, so type checkers see it
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

import storage.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('server_heartbeat',
    sa.Column('instance_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('beat_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('instance_id')
    )
    with op.batch_alter_table('server_heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_heartbeat_beat_at'), ['beat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('server_heartbeat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_heartbeat_beat_at'))
    op.drop_table('server_heartbeat')
