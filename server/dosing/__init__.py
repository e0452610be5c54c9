"""Dosing: dose plans, the administration record, the ward schedule and post-dose monitoring."""

from flask import Blueprint

bp = Blueprint("dosing", __name__)

from . import views  # noqa: E402, F401
