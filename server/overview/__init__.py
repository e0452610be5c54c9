"""Pages that gather what several features say: the PT's list (/today), the trials list (/trials) and the protocol
in force (/protocol). This package imports the features it shows; no feature imports it (so trials, dosing and
assessments need not import each other: tests/architecture/test_imports.py)."""

from flask import Blueprint

bp = Blueprint("overview", __name__)

from . import views  # noqa: E402, F401
