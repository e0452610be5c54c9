"""Exports: the research CSV with its REDCap data dictionary, and the FHIR R4 Bundle of a trial."""

from flask import Blueprint

bp = Blueprint("exports", __name__)

from . import views  # noqa: E402, F401
