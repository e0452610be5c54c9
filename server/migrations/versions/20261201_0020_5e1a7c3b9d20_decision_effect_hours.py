"""day decisions: the effect's onset and duration (hours)

Revision ID: 5e1a7c3b9d20
Revises: b14a0d1e2f30
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c3b9d20'
down_revision = 'b14a0d1e2f30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('day_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effect_onset_hours', sa.Numeric(precision=4, scale=1), nullable=True))
        batch_op.add_column(sa.Column('effect_duration_hours', sa.Numeric(precision=4, scale=1), nullable=True))


def downgrade():
    with op.batch_alter_table('day_decisions', schema=None) as batch_op:
        batch_op.drop_column('effect_duration_hours')
        batch_op.drop_column('effect_onset_hours')
