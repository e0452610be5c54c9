"""Admin: staff accounts and roles, and the way in to patients and trials."""

from __future__ import annotations

from flask import abort, request, url_for
from sqlalchemy import func, select

from ..audit.models import AuditEvent
from ..auth.decorators import roles_required
from ..auth.models import ROLE_LABELS, User
from ..auth.schemas import StaffCreateSchema, StaffRolesSchema
from ..auth.services import StaffError, create_staff, set_active, set_roles
from ..auth.session import current_user_id
from ..extensions import db
from ..trials.models import Patient, Trial
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from . import bp

admin_only = roles_required("admin")


@bp.get("/")
@admin_only
def index():  # type: ignore[no-untyped-def]
    counts = {
        "patients": db.session.scalar(select(func.count()).select_from(Patient)),
        "open_trials": db.session.scalar(select(func.count()).select_from(Trial).where(
            Trial.status.in_(("planned", "active")))),
        "staff": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
    }
    return render("admin/index.html", counts=counts)


@bp.get("/staff")
@admin_only
def staff():  # type: ignore[no-untyped-def]
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render("admin/staff.html", users=users, role_labels=ROLE_LABELS, errors={})


def _staff_form(values, errors, status=200):  # type: ignore[no-untyped-def]
    return render("admin/staff_new.html", "admin/_staff_form.html", values=values, errors=errors,
                  role_labels=ROLE_LABELS, status=status)


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_only
def staff_new():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _staff_form({"roles": []}, {})
    values = {"username": request.form.get("username", ""), "display_name": request.form.get("display_name", ""),
              "roles": request.form.getlist("roles")}
    data, errors = load_form(StaffCreateSchema(), request.form)
    if data is None:
        return _staff_form(values, errors, 422)
    try:
        create_staff(data)
        db.session.commit()
    except StaffError as exc:
        return _staff_form(values, exc.errors, 422)
    return redirect_to(url_for("admin.staff"))


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404, description="No such staff account.")


@bp.post("/staff/<int:user_id>/roles")
@admin_only
def staff_roles(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    data, errors = load_form(StaffRolesSchema(), request.form)
    if data is None:
        return render("admin/staff.html", "admin/_staff_row.html", user=user, role_labels=ROLE_LABELS,
                      users=db.session.scalars(select(User).order_by(User.username)).all(),
                      errors={user.id: errors}, status=422)
    if user.id == current_user_id() and "admin" not in data["roles"]:
        errors = {"roles": ["You cannot remove your own admin role."]}
        return render("admin/staff.html", "admin/_staff_row.html", user=user, role_labels=ROLE_LABELS,
                      users=db.session.scalars(select(User).order_by(User.username)).all(),
                      errors={user.id: errors}, status=422)
    set_roles(user, set(data["roles"]))
    db.session.commit()
    return render("admin/staff.html", "admin/_staff_row.html", user=user, role_labels=ROLE_LABELS,
                  users=db.session.scalars(select(User).order_by(User.username)).all(), errors={},
                  saved=user.id)


@bp.post("/staff/<int:user_id>/active")
@admin_only
def staff_active(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    make_active = request.form.get("active") == "1"
    if user.id == current_user_id() and not make_active:
        abort(409, description="You cannot disable your own account.")
    set_active(user, make_active)
    db.session.commit()
    return redirect_to(url_for("admin.staff"))


@bp.get("/audit")
@admin_only
def audit():  # type: ignore[no-untyped-def]
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
    names = dict(db.session.execute(select(User.id, User.username)).all())
    return render("admin/audit.html", events=events, names=names)
