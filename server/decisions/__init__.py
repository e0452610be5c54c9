"""The team's decisions: each trial day's judgement and next step, and the trial's candidacy outcome."""

from flask import Blueprint

bp = Blueprint("decisions", __name__)

from . import views  # noqa: E402, F401
