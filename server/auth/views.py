from __future__ import annotations

import math

from flask import redirect, request, url_for

from ..extensions import db
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from ..web.redirects import safe_next
from . import bp
from .decorators import login_required
from .schemas import LoginSchema
from .services import AuthError, Throttled, authenticate
from .session import current_user, sign_in, sign_out

# Where each role lands after signing in; a user with several roles lands on the first that applies.
HOME_BY_ROLE = (("pt", "trials.today"), ("nurse", "dosing.ward"), ("surgeon", "trials.index"),
                ("admin", "admin.index"))


def home_url() -> str:
    user = current_user()
    for role, endpoint in HOME_BY_ROLE:
        if user is not None and user.has_role(role):
            return url_for(endpoint)
    return url_for("auth.login")


@bp.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    return redirect(home_url(), code=303)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
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
def logout():  # type: ignore[no-untyped-def]
    sign_out()
    db.session.commit()
    return redirect_to(url_for("auth.login"))
