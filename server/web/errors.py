"""Error pages: HTML for people, JSON for the API; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from .htmx import render

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):  # type: ignore[no-untyped-def]
        code = err.code or 500
        if _wants_json():
            return {"error": err.name, "message": err.description}, code
        return render("errors/error.html", code=code, title=err.name, message=err.description, status=code)

    @app.errorhandler(Exception)
    def unexpected(err: Exception):  # type: ignore[no-untyped-def]
        from ..extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on the server. Nothing was saved; please try again."
        if _wants_json():
            return {"error": "Internal Server Error", "message": message}, 500
        return render("errors/error.html", code=500, title="Server error", message=message, status=500)
