"""audit events: the trial and patient each event concerns (filled in for past events too)

Revision ID: b14a0d1e2f30
Revises: a13b0c1d2e3f
Create Date: 2026-12-01 00:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b14a0d1e2f30'
down_revision = 'a13b0c1d2e3f'
branch_labels = None
depends_on = None

# entity type -> its table, for the events recorded before these columns existed
_BY_TRIAL = {"Assessment": "assessments", "AssessmentPlan": "assessment_plans", "Goal": "goals",
             "ParentLink": "parent_links", "EscalationResponse": "escalation_responses"}
_BY_DAY = {"DoseAdministration": "dose_administrations", "DosePlanChange": "dose_plan_changes",
           "Observation": "observations", "DayDecision": "day_decisions", "GoalRating": "goal_ratings"}


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_trial_id'), ['trial_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_patient_id'), ['patient_id'], unique=False)
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())
    # entity_id is text: compare as text on both databases
    op.execute("UPDATE audit_events SET trial_id = CAST(entity_id AS INTEGER) WHERE entity_type = 'Trial'")
    op.execute("UPDATE audit_events SET patient_id = CAST(entity_id AS INTEGER) WHERE entity_type = 'Patient'")
    op.execute("UPDATE audit_events SET trial_id = (SELECT d.trial_id FROM trial_days d "
               "WHERE CAST(d.id AS VARCHAR(64)) = audit_events.entity_id) WHERE entity_type = 'TrialDay'")
    for entity, table in _BY_TRIAL.items():
        if table in tables:
            op.execute(f"UPDATE audit_events SET trial_id = (SELECT r.trial_id FROM {table} r "
                       f"WHERE CAST(r.id AS VARCHAR(64)) = audit_events.entity_id) WHERE entity_type = '{entity}'")
    for entity, table in _BY_DAY.items():
        if table in tables:
            op.execute(f"UPDATE audit_events SET trial_id = (SELECT d.trial_id FROM {table} r JOIN trial_days d "
                       f"ON d.id = r.trial_day_id WHERE CAST(r.id AS VARCHAR(64)) = audit_events.entity_id) "
                       f"WHERE entity_type = '{entity}'")
    op.execute("UPDATE audit_events SET patient_id = (SELECT t.patient_id FROM trials t "
               "WHERE t.id = audit_events.trial_id) WHERE trial_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_patient_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_trial_id'))
        batch_op.drop_column('patient_id')
        batch_op.drop_column('trial_id')
