"""Named access checks: every staff route says which roles may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request, url_for

from ..extensions import htmx
from ..web.htmx import redirect_to
from ..web.redirects import safe_next
from .models import ROLES
from .session import current_user

F = TypeVar("F", bound=Callable[..., Any])
# The one page open to a user whose password was set by an admin, until they choose their own.
PASSWORD_CHANGE = "auth.password"  # noqa: S105 - an endpoint name, not a password
STAFF = ROLES  # every staff role: `@roles_required(*STAFF)` for the pages every member of the team reads


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed-in staff holding any of `roles` (no roles named = any signed-in staff)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401, description="Sign in to continue.")
                nxt = request.full_path.removesuffix("?") if request.method == "GET" and not htmx else None
                return redirect_to(url_for("auth.login", next=safe_next(nxt)))
            if user.must_change_password and request.endpoint != PASSWORD_CHANGE:
                if request.path.startswith("/api/"):  # the outbox waits, as for a sign-in (never discards)
                    abort(401, description="Choose a new password first: an admin set a temporary one.")
                nxt = request.full_path.removesuffix("?") if request.method == "GET" and not htmx else None
                return redirect_to(url_for(PASSWORD_CHANGE, next=safe_next(nxt)))
            if roles and not user.has_role(*roles):
                abort(403, description="Your role does not allow this.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


login_required = roles_required()
