"""teams forms: Teams form cards carry a reference to the form, kept here

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
# autogenerate writes sqlmodel.sql.sqltypes.AutoString: import that module itself, so type checkers see it
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

import storage.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('teams_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('form', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('teams_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_form_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teams_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_form_created_at'))

    op.drop_table('teams_form')
