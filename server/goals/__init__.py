"""Goals agreed with the family before the first test dose, rated on each trial day (Goal Attainment Scaling)."""

from flask import Blueprint

bp = Blueprint("goals", __name__)

from . import views  # noqa: E402, F401
