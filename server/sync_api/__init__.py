"""The server side of offline sync: a thin HTTP adapter over the pure `sync` engine."""

from flask import Blueprint

bp = Blueprint("sync_api", __name__)

from . import views  # noqa: E402, F401
