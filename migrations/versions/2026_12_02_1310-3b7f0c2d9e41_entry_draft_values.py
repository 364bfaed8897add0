"""entry draft values: a draft's values as typed that are not valid yet

Revision ID: 3b7f0c2d9e41
Revises: 33671b45d971
Create Date: 2026-12-02 13:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3b7f0c2d9e41'
down_revision: str | None = '33671b45d971'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_values', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_column('draft_values')
