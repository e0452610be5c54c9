"""PT bedside assessments: instruments, the per-trial plan, append-only records and the comparison."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)

from . import views  # noqa: E402, F401
