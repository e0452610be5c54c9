"""Imports every feature's models so SQLAlchemy's metadata is complete (migrations, create_all)."""

from .assessments.models import Assessment, AssessmentPlan  # noqa: F401
from .audit.models import AuditEvent
from .auth.models import LoginAttempt, User
from .decisions.models import DayDecision
from .dosing.models import DoseAdministration, DosePlanChange, EscalationResponse, Observation
from .goals.models import Goal, GoalRating
from .parents.models import ParentLink, ParentObservation
from .sync_api.models import SyncConflict, SyncLedger
from .trials.models import Patient, Trial, TrialDay
from .web.ratelimit import RateLimitCounter

__all__ = [
    "AuditEvent",
    "DayDecision",
    "DoseAdministration",
    "DosePlanChange",
    "EscalationResponse",
    "Goal",
    "GoalRating",
    "LoginAttempt",
    "Observation",
    "ParentLink",
    "ParentObservation",
    "Patient",
    "RateLimitCounter",
    "SyncConflict",
    "SyncLedger",
    "Trial",
    "TrialDay",
    "User",
]
