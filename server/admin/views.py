"""Admin: staff accounts and roles, and the way in to patients and trials."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request, stream_with_context, url_for
from sqlalchemy import func, select

from ..audit.queries import ACTIONS, entity_types, export_rows, search
from ..audit.schemas import AuditFilterSchema
from ..auth.decorators import roles_required
from ..auth.models import ROLE_LABELS, User
from ..auth.policy import rules_text
from ..auth.schemas import StaffActiveSchema, StaffCreateSchema, StaffRolesSchema, TemporaryPasswordSchema
from ..auth.services import StaffError
from ..auth.session import current_user_id
from ..extensions import db, htmx
from ..trials.models import Patient, Trial
from ..web.csvfile import csv_lines
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from . import bp
from .services import ConfirmationNeeded, create_staff, set_active, set_roles, set_temporary_password

admin_only = roles_required("admin")


FILTER_CHOICES = 100  # the audit viewer's trial and child lists: the latest ones

@bp.get("/")
@admin_only
def index():
    counts = {
        "patients": db.session.scalar(select(func.count()).select_from(Patient)),
        "open_trials": db.session.scalar(select(func.count()).select_from(Trial).where(
            Trial.status.in_(("planned", "active")))),
        "staff": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
    }
    return render("admin/index.html", counts=counts)


@bp.get("/staff")
@admin_only
def staff():
    return _staff_page()


def _staff_page(user: User | None = None, errors: dict[str, list[str]] | None = None,
                confirm: dict[str, Any] | None = None, saved: bool = False,
                status: int = 200):
    """The staff list, or (htmx) the row of `user`, with its messages, the question to confirm, or "Saved"."""
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render("admin/staff.html", "admin/_staff_row.html" if user is not None else None, users=users,
                  user=user, role_labels=ROLE_LABELS, errors={user.id: errors} if user and errors else {},
                  confirm={user.id: confirm} if user and confirm else {}, saved=user.id if user and saved else None,
                  me=current_user_id(), status=status)


def _staff_form(values, errors, status=200):
    return render("admin/staff_new.html", "admin/_staff_form.html", values=values, errors=errors,
                  role_labels=ROLE_LABELS, rules=rules_text(), status=status)


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_only
def staff_new():
    if request.method == "GET":
        return _staff_form({"roles": []}, {})
    values = {"username": request.form.get("username", ""), "display_name": request.form.get("display_name", ""),
              "roles": request.form.getlist("roles")}
    data, errors = load_form(StaffCreateSchema(), request.form)
    if data is None:
        return _staff_form(values, errors, 422)
    try:
        create_staff(data, temporary=True)
        db.session.commit()
    except StaffError as exc:
        db.session.rollback()
        return _staff_form(values, exc.errors, 422)
    return redirect_to(url_for("admin.staff"))


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404, description="No such staff account.")


def _me() -> User:
    return db.session.get(User, current_user_id())  # type: ignore[return-value]


@bp.post("/staff/<int:user_id>/roles")
@admin_only
def staff_roles(user_id: int):
    user = _user_or_404(user_id)
    data, errors = load_form(StaffRolesSchema(), request.form)
    if data is None:
        return _staff_page(user, errors, status=422)
    try:
        set_roles(user, set(data["roles"]), by=_me(), confirm=data["confirm"])
    except ConfirmationNeeded as exc:
        db.session.rollback()
        return _staff_page(user, confirm={"action": "roles", "message": exc.errors["roles"][0],
                                          "roles": data["roles"]})
    except StaffError as exc:
        db.session.rollback()
        return _staff_page(user, exc.errors, status=422)
    db.session.commit()
    return _staff_page(user, saved=True)


@bp.post("/staff/<int:user_id>/active")
@admin_only
def staff_active(user_id: int):
    user = _user_or_404(user_id)
    data, errors = load_form(StaffActiveSchema(), request.form)
    if data is None:
        return _staff_page(user, {"_form": [m for ms in errors.values() for m in ms]}, status=422)
    try:
        set_active(user, data["active"], by=_me(), confirm=data["confirm"])
    except ConfirmationNeeded as exc:
        db.session.rollback()
        return _staff_page(user, confirm={"action": "active", "message": exc.errors["_form"][0]})
    except StaffError as exc:
        db.session.rollback()
        return _staff_page(user, exc.errors, status=422)
    db.session.commit()
    if htmx:  # the row, swapped in place (a redirect to this same page would only move to its anchor)
        return _staff_page(user, saved=True)
    return redirect_to(url_for("admin.staff", _anchor=f"staff-{user.id}"))


@bp.route("/staff/<int:user_id>/password", methods=["GET", "POST"])
@admin_only
def staff_password(user_id: int):
    """Set a temporary password (a forgotten one): the person must choose their own at the next sign-in."""
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _password_form(user, {})
    data, errors = load_form(TemporaryPasswordSchema(), request.form)
    if data is None:
        return _password_form(user, errors, 422)
    try:
        set_temporary_password(user, data["password"], by=_me())
    except StaffError as exc:
        db.session.rollback()
        return _password_form(user, exc.errors, 422)
    db.session.commit()
    return redirect_to(url_for("admin.staff", _anchor=f"staff-{user.id}"))


def _password_form(user: User, errors: dict[str, list[str]], status: int = 200):
    return render("admin/staff_password.html", "admin/_password_form.html", user=user, errors=errors,
                  rules=rules_text(), me=current_user_id(), status=status)


@bp.get("/audit")
@admin_only
def audit():
    """The audit log, filtered by trial, child, person, action, record type and dates; CSV of the same."""
    filters, errors = load_form(AuditFilterSchema(), request.args)
    if filters is None:
        filters = {}
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    if request.args.get("format") == "csv" and not errors:
        response = Response(stream_with_context(csv_lines(export_rows(filters, names))), mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=audit-log.csv"
        return response
    result = search(filters, filters.get("page", 1))
    # The latest trials and children to choose from (and the one chosen): years of them would make a page of
    # thousands of options. An older trial's log opens from the trial's page, or by its number in the address.
    trial_cols = select(Trial.id, Patient.first_name, Patient.last_name, Trial.start_date).join(
        Patient, Patient.id == Trial.patient_id)
    trials = list(db.session.execute(trial_cols.order_by(Trial.id.desc()).limit(FILTER_CHOICES)))
    patients = list(db.session.execute(select(Patient.id, Patient.first_name, Patient.last_name)
                                       .order_by(Patient.id.desc()).limit(FILTER_CHOICES)))
    # (Each a walk down the primary key from its newest row; the one chosen, if older, is added by id.)
    chosen_trial, chosen_patient = filters.get("trial_id"), filters.get("patient_id")
    if chosen_trial and all(t.id != chosen_trial for t in trials):
        trials += db.session.execute(trial_cols.where(Trial.id == chosen_trial))
    if chosen_patient and all(p.id != chosen_patient for p in patients):
        patients += db.session.execute(select(Patient.id, Patient.first_name, Patient.last_name)
                                       .where(Patient.id == chosen_patient))
    patients.sort(key=lambda p: (p.last_name, p.first_name))
    options = {
        "trials": [(t.id, f"{t.first_name} {t.last_name} · from {t.start_date:%-d %b %Y}") for t in trials],
        "patients": [(p.id, f"{p.last_name}, {p.first_name}") for p in patients],
        "users": sorted(names.items(), key=lambda item: item[1]),
        "actions": list(ACTIONS.items()),
        "types": [(t, t) for t in entity_types()],
    }
    args = {k: v for k, v in filters.items() if k != "page" and v is not None}
    return render("admin/audit.html", "admin/_audit_results.html", status=422 if errors else 200, result=result,
                  names=names, errors=errors, values=request.args, options=options, args=args)
