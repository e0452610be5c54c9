"""assessments: is_repeat and timing_confirmed

Revision ID: a13b0c1d2e3f
Revises: 674971ef983f
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a13b0c1d2e3f'
down_revision = '674971ef983f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_repeat', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('timing_confirmed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('timing_confirmed')
        batch_op.drop_column('is_repeat')
