"""passwords (temporary, changed at next sign-in) and editable patients (revision, weight measured on)

Revision ID: 5b1e7c2d9a40
Revises: 5e1a7c3b9d20
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import server.web.types


# revision identifiers, used by Alembic.
revision = '5b1e7c2d9a40'
down_revision = '5e1a7c3b9d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('password_changed_at', server.web.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight_measured_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
    # A weight recorded before this revision was measured, at the latest, when the child was registered.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE patients SET weight_measured_on = CAST(created_at AS DATE)")
    else:  # SQLite stores the timestamp as text: its first ten characters are the date
        op.execute("UPDATE patients SET weight_measured_on = substr(created_at, 1, 10)")
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.alter_column('weight_measured_on', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('weight_measured_on')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
