"""speed: indexes for the two delivery lookups on the hot path

A click in a message is matched to the day's digest that carried it (bot/delivery/digest.py ``splice``) by the
platform's message id, and every pacing pass reads the deliveries counted in the last eight days
(bot/delivery/pacing.py ``_ledger``); without these both read every delivery of the workspace.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_message', ['workspace_id', 'platform_message_id'], unique=False)
        batch_op.create_index('ix_delivery_counted', ['workspace_id', 'counted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_counted')
        batch_op.drop_index('ix_delivery_message')
