"""The account rules in admin/services.py, called as the admin's pages and `flask create-admin` call them."""

from __future__ import annotations

import pytest

from server.admin.services import ConfirmationNeeded, create_staff, set_active, set_roles, set_temporary_password
from server.auth.models import User
from server.auth.services import StaffError
from server.extensions import db

PASSWORD = "plenty-long-pass"


def _user(uid: int) -> User:
    user = db.session.get(User, uid)
    assert user is not None
    return user


def test_an_admin_cannot_demote_disable_or_reset_themselves_but_another_admin_can(ctx, make_user) -> None:  # type: ignore[no-untyped-def]
    ids = make_user("admin", "surgeon"), make_user("admin")  # (committed before this session reads)
    me, other = _user(ids[0]), _user(ids[1])
    with pytest.raises(StaffError) as demote:
        set_roles(me, {"surgeon"}, by=me, confirm=True)
    assert demote.value.errors == {"roles": ["You cannot remove your own admin role: another admin can do it."]}
    with pytest.raises(StaffError) as disable:
        set_active(me, False, by=me, confirm=True)
    assert disable.value.errors == {"_form": ["You cannot disable your own account: another admin can do it."]}
    with pytest.raises(StaffError) as reset:
        set_temporary_password(me, PASSWORD, by=me)
    assert "use Change password" in reset.value.errors["password"][0]
    assert me.roles == {"admin", "surgeon"} and me.active
    set_roles(me, {"surgeon"}, by=other, confirm=True)
    set_active(me, False, by=other, confirm=True)
    assert me.roles == {"surgeon"} and not me.active


def test_taking_something_away_asks_first_and_changes_nothing_until_confirmed(ctx, make_user) -> None:  # type: ignore[no-untyped-def]
    ids = make_user("admin"), make_user("nurse", "pt")
    admin, nurse = _user(ids[0]), _user(ids[1])
    version = nurse.session_version
    with pytest.raises(ConfirmationNeeded) as ask:
        set_roles(nurse, {"nurse"}, by=admin)
    assert ask.value.errors["roles"][0].startswith("Remove Physical therapist from ")
    with pytest.raises(ConfirmationNeeded):
        set_active(nurse, False, by=admin)
    assert nurse.roles == {"nurse", "pt"} and nurse.active and nurse.session_version == version
    set_roles(nurse, {"nurse", "pt", "surgeon"}, by=admin)  # adding a role needs no confirmation
    assert nurse.roles == {"nurse", "pt", "surgeon"} and nurse.session_version == version + 1  # signed out


def test_a_new_account_follows_the_password_policy_and_a_taken_name_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StaffError) as weak:
        create_staff({"username": "kim", "display_name": "Kim", "password": "password123", "roles": ["pt"]})
    assert list(weak.value.errors) == ["password"]
    kim = create_staff({"username": "Kim", "display_name": "Kim", "password": PASSWORD, "roles": ["pt"]},
                       temporary=True)
    assert kim.username == "kim" and kim.must_change_password
    with pytest.raises(StaffError) as taken:
        create_staff({"username": "kim", "display_name": "Kim 2", "password": PASSWORD, "roles": ["pt"]})
    assert taken.value.errors == {"username": ["That username is taken."]}
