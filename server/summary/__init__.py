"""The trial summary for the medical record: a printable page and the same page as a PDF made on the server."""

from flask import Blueprint

bp = Blueprint("summary", __name__)

from . import views  # noqa: E402, F401
