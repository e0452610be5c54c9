"""Imports every feature's models so SQLAlchemy's metadata is complete (migrations, create_all)."""

from .audit.models import AuditEvent
from .auth.models import LoginAttempt, User
from .trials.models import Patient, Trial, TrialDay

__all__ = ["AuditEvent", "LoginAttempt", "Patient", "Trial", "TrialDay", "User"]
