"""indexes for a busy unit's years: observations' overdose sign, the audit viewer's (trial|child|actor, time),
the ward's active trials and recent doses

Revision ID: c3d9f1a7e2b4
Revises: b7e4c2a9d5f1
Create Date: 2026-12-06 12:00:00

The ward looks for open escalations among every observation ever taken; it now reads those flagged when
recorded (`observations.overdose_sign`, indexed). Rows written before this revision are flagged here with the
thresholds in force today (dosing/vitals.py: SpO2 below 94 %, temperature below 36.0 °C, sedation 2 or more, a
charted overdose effect, or a respiratory rate below the lower limit of the child's age band at the time, with
two days' slack on the age): a superset, which the app narrows with `vitals.assess` as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9f1a7e2b4'
down_revision = 'b7e4c2a9d5f1'
branch_labels = None
depends_on = None

# (lower respiratory-rate limit, the age in months below which it applies), youngest band first
RESP_LOW_BELOW_MONTHS = [(30, 12), (24, 48), (22, 72), (18, 156)]
RESP_LOW_ANY_AGE = 12
OVERDOSE_EFFECTS = ["dizziness", "drowsiness", "respiratory_depression", "rostral_hypotonia", "seizure"]


def _younger_than(months: int, dialect: str) -> str:
    """SQL: the child was (perhaps) younger than `months` when the observation was taken."""
    if dialect == "sqlite":
        return f"p.date_of_birth > date(o.taken_at, '-{months} months', '-2 days')"
    return f"p.date_of_birth > CAST(o.taken_at - INTERVAL '{months} months' - INTERVAL '2 days' AS DATE)"


def upgrade():
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdose_sign', sa.Boolean(), server_default=sa.false(), nullable=False))

    dialect = op.get_bind().dialect.name
    signs = ["o.spo2 < 94", "o.temperature_c < 36.0", "o.sedation_score >= 2", f"o.resp_rate < {RESP_LOW_ANY_AGE}"]
    signs += [f"(o.resp_rate < {low} AND {_younger_than(months, dialect)})" for low, months in RESP_LOW_BELOW_MONTHS]
    signs += [f"CAST(o.effects AS TEXT) LIKE '%\"{key}\"%'" for key in OVERDOSE_EFFECTS]
    op.execute(
        "UPDATE observations SET overdose_sign = TRUE WHERE id IN (SELECT o.id FROM observations o "
        "JOIN trial_days d ON d.id = o.trial_day_id JOIN trials t ON t.id = d.trial_id "
        f"JOIN patients p ON p.id = t.patient_id WHERE {' OR '.join(signs)})"
    )

    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index('ix_observations_overdose_sign', ['overdose_sign', 'trial_day_id'], unique=False)

    with op.batch_alter_table('trials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trials_status'), ['status'], unique=False)

    with op.batch_alter_table('dose_administrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dose_administrations_given_at'), ['given_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_actor_id')
        batch_op.drop_index('ix_audit_events_trial_id')
        batch_op.drop_index('ix_audit_events_patient_id')
        batch_op.create_index('ix_audit_events_trial_at', ['trial_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_patient_at', ['patient_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_actor_at', ['actor_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_actor_at')
        batch_op.drop_index('ix_audit_events_patient_at')
        batch_op.drop_index('ix_audit_events_trial_at')
        batch_op.create_index('ix_audit_events_patient_id', ['patient_id'], unique=False)
        batch_op.create_index('ix_audit_events_trial_id', ['trial_id'], unique=False)
        batch_op.create_index('ix_audit_events_actor_id', ['actor_id'], unique=False)

    with op.batch_alter_table('dose_administrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dose_administrations_given_at'))

    with op.batch_alter_table('trials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trials_status'))

    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index('ix_observations_overdose_sign')
        batch_op.drop_column('overdose_sign')
