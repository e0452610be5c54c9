"""Parent links: a private, read-only, expiring and revocable link to one child's trial progress."""

from flask import Blueprint

bp = Blueprint("parents", __name__)

from . import views  # noqa: E402, F401
