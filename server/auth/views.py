from __future__ import annotations

import math

from flask import redirect, request, url_for

from ..extensions import db
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from ..web.redirects import safe_next
from . import bp
from .decorators import login_required
from .policy import rules_text
from .schemas import LoginSchema, PasswordChangeSchema
from .services import AuthError, StaffError, Throttled, authenticate, change_own_password
from .session import current_user, sign_in, sign_out

# Where each role lands after signing in; a user with several roles lands on the first that applies.
HOME_BY_ROLE = (("pt", "overview.today"), ("nurse", "dosing.ward"), ("surgeon", "overview.trials"),
                ("admin", "admin.index"))


def home_url() -> str:
    user = current_user()
    for role, endpoint in HOME_BY_ROLE:
        if user is not None and user.has_role(role):
            return url_for(endpoint)
    return url_for("auth.login")


@bp.get("/")
@login_required
def home():
    return redirect(home_url(), code=303)


@bp.route("/login", methods=["GET", "POST"])
def login():
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(nxt or home_url(), code=303)
        return render("auth/login.html", "auth/_login_form.html", values={}, errors={}, next=nxt)
    data, errors = load_form(LoginSchema(), request.form)
    values = {"username": request.form.get("username", "")}
    if data is None:
        return render("auth/login.html", "auth/_login_form.html", values=values, errors=errors,
                      next=nxt, status=422)
    try:
        user = authenticate(data["username"], data["password"], request.remote_addr or "?")
    except Throttled as exc:
        response = render("auth/login.html", "auth/_login_form.html", values=values,
                          errors={"_form": [str(exc)]}, next=nxt, status=429)
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response
    except AuthError as exc:
        return render("auth/login.html", "auth/_login_form.html", values=values,
                      errors={"_form": [str(exc)]}, next=nxt, status=401)
    sign_in(user)
    db.session.commit()
    return redirect_to(nxt or home_url())


@bp.post("/logout")
def logout():
    sign_out()
    db.session.commit()
    return redirect_to(url_for("auth.login"))


def _password_page(errors: dict[str, list[str]], status: int = 200, changed: bool = False):
    user = current_user()
    return render("auth/password.html", "auth/_password_form.html", errors=errors, rules=rules_text(),
                  forced=bool(user and user.must_change_password), changed=changed,
                  next=safe_next(request.values.get("next")), home=home_url(), status=status)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; the only page open while a temporary password set by an admin is in use."""
    if request.method == "GET":
        return _password_page({}, changed=request.args.get("changed") == "1")
    data, errors = load_form(PasswordChangeSchema(), request.form)
    if data is None:
        return _password_page(errors, 422)
    user = current_user()
    assert user is not None  # login_required
    try:
        change_own_password(user, data["current_password"], data["new_password"])
    except StaffError as exc:
        db.session.rollback()
        return _password_page(exc.errors, 422)
    sign_in(user)  # every earlier sign-in ended with the change; this browser carries on in a new one
    db.session.commit()
    nxt = safe_next(request.values.get("next"))
    return redirect_to(nxt or url_for("auth.password", changed=1))
