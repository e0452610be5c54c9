"""Error pages: HTML for people, JSON for the API; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, make_response, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from sync import Clash

from .htmx import render

log = logging.getLogger(__name__)
# PostgreSQL's answers to a transaction meeting another one: unique violation, deadlock, serialization failure.
CLASH_SQLSTATES = {"23505", "40P01", "40001"}


def is_clash(exc: BaseException) -> bool:
    """The database refused a write because a concurrent transaction stored the same thing (a unique
    constraint) or the two deadlocked: trying again, after reading what the other committed, can succeed."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return isinstance(exc, IntegrityError | OperationalError) and sqlstate in CLASH_SQLSTATES
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(orig)  # SQLite


def _loggable_path() -> str:
    """The request path for a log line, without secrets: a parent link's path is its token."""
    return "/p/[token]" if request.path.startswith("/p/") else request.path


def _page(code: int, title: str, message: str) -> Response:
    """The error page: the parents' own under /p/ (no staff scripts, no service worker, no cookie)."""
    if request.path.startswith("/p/"):
        return render("parents/error.html", code=code, status=code)
    return render("errors/error.html", code=code, title=title, message=message, status=code)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        code = err.code or 500
        # The exception's own headers but its body's type: a 405's Allow, a 415's Accept-Encoding.
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            return {"error": err.name, "message": err.description}, code, headers
        response = _page(code, err.name, err.description or "")
        response.headers.extend(headers)
        return response

    @app.errorhandler(OperationalError)
    def database_busy(err: OperationalError):
        """SQLite's single writer was busy for longer than busy_timeout: nothing was written; try again."""
        from ..extensions import db

        db.session.rollback()
        if "database is locked" not in str(err.orig):
            return unexpected(err)
        log.warning("database busy on %s %s", request.method, _loggable_path())
        message = "The server is busy. Nothing was saved; it will be tried again in a moment."
        body = ({"error": "Service Unavailable", "message": message} if _wants_json() else
                _page(503, "Busy", message))
        response = make_response(body, 503)
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(IntegrityError)
    def integrity(err: IntegrityError):
        """Two requests stored the same thing at the same moment and the database's unique constraint refused the
        second (PostgreSQL): nothing of this request was saved; the page says so instead of a 500."""
        from ..extensions import db

        db.session.rollback()
        if not is_clash(err):
            return unexpected(err)
        log.warning("concurrent write refused on %s %s", request.method, _loggable_path())
        message = ("Someone saved the same record at the same moment, so this save was not made. "
                   "Reload the page to see what was saved, then try again if it is still needed.")
        if _wants_json():
            return {"error": "Conflict", "message": message}, 409
        return _page(409, "Saved meanwhile", message)

    @app.errorhandler(Clash)
    def still_clashing(err: Clash):
        """A sync entry kept meeting concurrent writes: the batch was rolled back; the phone sends it again."""
        from ..extensions import db

        db.session.rollback()
        log.warning("sync batch gave up on concurrent writes on %s %s", request.method, _loggable_path())
        message = "The server is busy. Nothing was saved; it will be tried again in a moment."
        response = make_response({"error": "Service Unavailable", "message": message}, 503)
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        from ..extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, _loggable_path())
        message = "Something went wrong on the server. Nothing was saved; please try again."
        if _wants_json():
            return {"error": "Internal Server Error", "message": message}, 500
        return _page(500, "Server error", message)
