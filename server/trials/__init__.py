from flask import Blueprint

bp = Blueprint("trials", __name__)

from . import views  # noqa: E402, F401
