"""CSRF protection and security headers for every response."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, current_app, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_SESSION_KEY = "_csrf"
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # No manifest-src: default-src covers the manifest, and Safari (WebKit) logs an error for the directive
        # on every page (e2e/webkit fails on console errors).
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return str(token)


def _same_token(expected: object, sent: str | None) -> bool:
    """Constant-time comparison that never raises (a token with characters outside ASCII is just wrong)."""
    if not expected or not sent:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8", "replace"), sent.encode("utf-8", "replace"))


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    if current_app.config.get("CSRF_DISABLED"):
        return
    if request.path.startswith("/p/"):  # a parent's page has no session: its form carries a token tied to the link,
        return  # checked by its view (parents/services.form_token)
    api = request.path.startswith("/api/")
    if api and session.get("uid") is None:
        # The API answers an expired or missing sign-in with 401 before anything else, so the phone's outbox
        # pauses ("Sign in to send N entries") and resumes after sign-in, instead of setting entries aside.
        abort(401, description="Sign in to continue.")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not _same_token(session.get(CSRF_SESSION_KEY), sent):
        if api:  # signed in, but the token is stale (signed out and in elsewhere): the phone fetches a new one
            abort(403, description="Your sign-in changed while sending; the entries wait and are sent again.")
        abort(400, description="The form has expired or was not sent by this app. Reload the page and try again.")


def _headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages about patients are private: never stored by shared caches.
    if response.mimetype == "text/html":
        h.setdefault("Cache-Control", "no-store" if request.path.startswith("/p/") else "private, no-cache")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    if app.config.get("TRUSTED_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
