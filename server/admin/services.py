"""Staff accounts: the account rules an admin applies, the one write path for them (the admin's pages and
`flask create-admin` call these). New accounts, roles, enabling and disabling, temporary passwords: an admin cannot
demote or disable themselves, nor set their own password here; taking something away needs a confirmation.

Like every service these flush and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..auth.models import ROLE_LABELS, ROLES, User
from ..auth.passwords import hash_password
from ..auth.services import StaffError, end_sessions, lift_sign_in_delay, password_refused, set_password
from ..extensions import db
from ..web import clock


class ConfirmationNeeded(StaffError):
    """A change that takes something away (a role, the account itself), asked without confirmation: the message
    says what would go; the same request with `confirm` does it."""


def create_staff(data: dict[str, Any], *, temporary: bool = False, enforce_policy: bool = True) -> User:
    """A new account: username, display_name, password, roles. The password policy applies (`policy.py`); only
    the demo accounts (`flask demo-data`, refused in production), whose password is published anyway, skip it.
    `temporary`: the password was chosen by an admin, so the person must choose their own at the first sign-in."""
    username = data["username"].lower()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise StaffError({"username": ["That username is taken."]})
    if enforce_policy:
        password_refused(data["password"], username, "password")
    user = User(username=username, display_name=data["display_name"],
                password_hash=hash_password(data["password"]), active=True, session_version=1,
                must_change_password=temporary)
    user.roles = set(data["roles"])
    db.session.add(user)
    db.session.flush()
    return user


def set_temporary_password(user: User, password: str, *, by: User) -> User:
    """An admin gives `user` a temporary password (a forgotten one, a new starter): it must be changed at the next
    sign-in, every sign-in of the user ends, and any sign-in delay of the account is lifted. Not for one's own
    account: that change asks for the current password (`change_own_password`)."""
    if user.id == by.id:
        raise StaffError({"password": ["This is your own account: use Change password in the menu, which asks "
                                       "for your current password."]})
    set_password(user, password, "password", temporary=True)
    lift_sign_in_delay(user.username)
    db.session.flush()
    return user


def _role_names(roles: set[str] | frozenset[str]) -> str:
    names = [ROLE_LABELS[r] for r in ROLES if r in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def set_roles(user: User, roles: set[str], *, by: User | None = None, confirm: bool = False) -> User:
    """Give `user` exactly `roles`. An admin cannot take away their own admin role (another admin can), and
    taking any role away needs `confirm` (ConfirmationNeeded says what would go). A change ends every sign-in of
    the user: the new roles apply from the next."""
    roles = set(roles)
    if by is not None and user.id == by.id and user.has_role("admin") and "admin" not in roles:
        raise StaffError({"roles": ["You cannot remove your own admin role: another admin can do it."]})
    removed = user.roles - roles
    if removed and not confirm:
        raise ConfirmationNeeded({"roles": [f"Remove {_role_names(removed)} from {user.username}? "
                                            "They are signed out at once."]})
    if roles == user.roles:
        return user
    user.roles = roles
    end_sessions(user, clock.now())
    db.session.flush()
    return user


def set_active(user: User, active: bool, *, by: User | None = None, confirm: bool = False) -> User:
    """Enable or disable an account. An admin cannot disable their own account (another admin can), and
    disabling needs `confirm`. Disabling ends every sign-in of the user at once."""
    if not active and by is not None and user.id == by.id:
        raise StaffError({"_form": ["You cannot disable your own account: another admin can do it."]})
    if not active and user.active and not confirm:
        raise ConfirmationNeeded({"_form": [f"Disable {user.username}? They are signed out at once and cannot "
                                            "sign in until an admin enables the account again."]})
    if user.active == active:
        return user
    user.active = active
    end_sessions(user, clock.now())
    db.session.flush()
    return user
