"""The installable app: service worker, manifest, offline page and the "on this phone" outbox screen."""

from flask import Blueprint

bp = Blueprint("pwa", __name__)

from . import views  # noqa: E402, F401
