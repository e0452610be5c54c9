"""Parent links, the one write path: the token (256 bits, stored only as a hash, never in the audit log),
expiry, revocation, the lookup, and the page's plain-language progress."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from server.audit.models import AuditEvent
from server.extensions import db
from server.parents.models import ParentLink
from server.parents.progress import progress
from server.parents.schemas import ParentLinkSchema
from server.parents.services import (
    ParentLinkError,
    create_link,
    hash_token,
    links_for,
    open_link,
    revoke_link,
)
from server.trials.models import Trial
from server.web import clock
from server.web.forms import load_form

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _new(trial_id: int, author: int, days: int = 14, label: str = "Mum", now: datetime = T0):  # type: ignore[no-untyped-def]
    new = create_link(trial_id, {"label": label, "expires_in_days": days}, author_id=author, now=now)
    db.session.commit()
    return new


def _every_stored_text() -> str:
    """Every row of every table, as text: what a copy of the database would give away."""
    rows = []
    for table in db.metadata.sorted_tables:
        rows += [repr(tuple(r)) for r in db.session.execute(text(f'SELECT * FROM "{table.name}"'))]
    return "\n".join(rows)


def test_the_token_has_256_bits_and_only_its_hash_is_stored(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    new = _new(make_trial(), admin)
    assert len(base64.urlsafe_b64decode(new.token + "=" * (-len(new.token) % 4))) >= 32  # 256 random bits
    stored = db.session.get(ParentLink, new.link.id)
    assert stored.token_hash == hashlib.sha256(new.token.encode()).hexdigest()
    everything = _every_stored_text()
    assert new.token not in everything
    assert stored.token_hash in everything  # the check above would see a stored value


def test_tokens_differ_every_time(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin, trial_id = make_user("admin"), make_trial()
    tokens = {_new(trial_id, admin).token for _ in range(20)}
    assert len(tokens) == 20


def test_the_audit_log_records_who_made_and_revoked_a_link_but_never_the_token_or_hash(  # type: ignore[no-untyped-def]
        ctx, make_trial, make_user) -> None:
    from server.audit.context import Actor, acting_as

    admin, surgeon = make_user("admin"), make_user("surgeon")
    trial_id = make_trial()
    with acting_as(Actor(user_id=admin, via="web")):
        new = _new(trial_id, admin)
    with acting_as(Actor(user_id=surgeon, via="web")):
        revoke_link(trial_id, new.link.id, author_id=surgeon, now=T0 + timedelta(hours=1))
        db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "ParentLink")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("create", admin), ("update", surgeon)]
    assert events[0].after["label"] == "Mum" and events[0].after["token_hash"] == "[redacted]"
    assert events[1].after["revoked_by_id"] == surgeon
    logged = json.dumps([[e.before, e.after] for e in events])
    assert new.token not in logged and hash_token(new.token) not in logged


def test_expiry_is_7_14_or_30_days_and_never_more(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin, trial_id = make_user("admin"), make_trial()
    for days in (7, 14, 30):
        assert _new(trial_id, admin, days).link.expires_at == T0 + timedelta(days=days)
    with pytest.raises(ParentLinkError) as exc:
        create_link(trial_id, {"label": "Mum", "expires_in_days": 31}, author_id=admin, now=T0)
    assert "expires_in_days" in exc.value.errors
    data, errors = load_form(ParentLinkSchema(), {"label": "Dad", "expires_in_days": "365"})  # type: ignore[arg-type]
    assert data is None and errors == {"expires_in_days": ["Choose how long the link works: 7, 14 or 30 days."]}
    data, _ = load_form(ParentLinkSchema(), {"label": "  Dad  "})  # type: ignore[arg-type]
    assert data == {"label": "Dad", "expires_in_days": 14}  # the default


def test_the_label_is_required_and_at_most_60_characters(ctx) -> None:  # type: ignore[no-untyped-def]
    _, errors = load_form(ParentLinkSchema(), {"label": "  "})  # type: ignore[arg-type]
    assert errors == {"label": ["Say who the link is for, e.g. “Mum”."]}
    _, errors = load_form(ParentLinkSchema(), {"label": "x" * 61})  # type: ignore[arg-type]
    assert list(errors) == ["label"]
    data, _ = load_form(ParentLinkSchema(), {"label": "x" * 60})  # type: ignore[arg-type]
    assert data is not None


def test_a_link_opens_only_while_it_is_neither_expired_nor_revoked(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin, trial_id = make_user("admin"), make_trial()
    new = _new(trial_id, admin, days=7)
    assert open_link(new.token, now=T0 + timedelta(days=7) - timedelta(seconds=1)) is not None
    assert open_link(new.token, now=T0 + timedelta(days=7)) is None  # expired
    assert open_link(new.token[:-1], now=T0) is None  # unknown
    assert open_link("../../etc/passwd", now=T0) is None
    other = _new(trial_id, admin)
    revoke_link(trial_id, other.link.id, author_id=admin, now=T0 + timedelta(minutes=5))
    db.session.commit()
    assert open_link(other.token, now=T0 + timedelta(minutes=6)) is None  # revoked
    assert open_link(new.token, now=T0 + timedelta(minutes=6)) is not None  # the other link still works


def test_revoking_needs_the_links_own_trial_and_twice_changes_nothing(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin, surgeon = make_user("admin"), make_user("surgeon")
    a, b = make_trial(), make_trial()
    link = _new(a, admin).link
    assert revoke_link(b, link.id, author_id=admin) is None
    assert db.session.get(ParentLink, link.id).revoked_at is None
    first = revoke_link(a, link.id, author_id=admin, now=T0)
    revoke_link(a, link.id, author_id=surgeon, now=T0 + timedelta(hours=1))
    db.session.commit()
    assert (first.revoked_at, first.revoked_by_id) == (T0, admin)
    assert links_for(a)[0].status_at(T0) == "revoked" and links_for(b) == []


def test_seeing_the_page_is_marked_at_most_once_a_minute_and_not_audited(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    new = _new(make_trial(), admin)
    before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))

    def seen(at: datetime) -> datetime | None:
        open_link(new.token, now=at)
        db.session.commit()
        db.session.expire_all()
        return db.session.get(ParentLink, new.link.id).last_seen_at

    assert seen(T0) == T0
    assert seen(T0 + timedelta(seconds=59)) == T0
    assert seen(T0 + timedelta(seconds=61)) == T0 + timedelta(seconds=61)
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == before


# --- the parent's page, in words -------------------------------------------------------------------------------

def test_progress_tells_the_day_in_plain_words(ctx, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    p = progress(db.session.get(Trial, c.trial_id), clock.today())
    assert (p.first_name, p.status) == ("Ada", "Day 1 of 3")
    [day] = p.days
    assert day.dose == "Ada had a test dose of 50 micrograms at 9:05\u202fAM."  # Babel's US English time
    assert (day.stiffness.before.value, day.stiffness.after.value) == ("2", "1")
    assert (day.stiffness.before.step, day.stiffness.after.step) == (10, 5)  # 2 and 1 on the 0-4 scale, 5 % steps
    assert day.plan == "The team's plan for tomorrow: a slightly higher dose (75 micrograms)."
    assert not p.nothing_yet and p.outcome is None


def test_progress_of_a_later_day_compares_the_doses(ctx, child, staff) -> None:  # type: ignore[no-untyped-def]
    from datetime import time

    from tests.parents.conftest import give

    c = child("Ben", start=clock.today() - timedelta(days=1))
    give(c.trial_id, 2, staff, "75", time(9, 30))
    p = progress(db.session.get(Trial, c.trial_id), clock.today())
    assert p.status == "Day 2 of 3"
    today, yesterday = p.days
    assert today.is_today and today.dose == "Ben had a higher test dose of 75 micrograms at 9:30\u202fAM."
    assert yesterday.plan == "The team's plan for day 2: a slightly higher dose (75 micrograms)."
    assert today.plan is None and today.stiffness is None


def test_progress_with_nothing_recorded_says_so_and_shows_the_plan(ctx, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Cara", bare=True)
    p = progress(db.session.get(Trial, c.trial_id), clock.today())
    assert p.nothing_yet
    assert [d.dose for d in p.days] == ["A test dose of 50 micrograms is planned for 9:00\u202fAM."]
    trial = db.session.get(Trial, c.trial_id)
    before_start = progress(trial, clock.today() - timedelta(days=1))
    assert before_start.days == [] and before_start.nothing_yet
    start = trial.start_date
    assert before_start.status == f"Starts on {start:%A}, {start:%B} {start.day}, {start.year}"
    assert progress(trial, clock.today() + timedelta(days=3)).status == "The trial days are over"


@pytest.mark.parametrize(("outcome", "words"), [
    ("candidate", "The team thinks a baclofen pump could help Dev"),
    ("not_candidate", "a baclofen pump is not the right choice for Dev at the moment"),
    ("inconclusive", "The results were not clear enough to decide about a pump yet"),
])
def test_the_outcome_is_told_in_plain_words(ctx, child, outcome, words) -> None:  # type: ignore[no-untyped-def]
    c = child("Dev")
    trial = db.session.get(Trial, c.trial_id)
    trial.outcome, trial.status = outcome, "completed"
    db.session.commit()
    p = progress(trial, clock.today())
    assert p.status == "Finished" and words in (p.outcome or "")


@pytest.mark.parametrize("case", ["no dose recorded", "outside the window"])
def test_no_before_and_after_is_told_unless_the_check_followed_a_recorded_dose(ctx, child, staff, case) -> None:  # type: ignore[no-untyped-def]
    """A 'post-dose' check with no dose on record, or made too early, is for the team to look at first: the
    family is not told the legs were looser 'after the dose'."""
    from datetime import UTC, datetime, time

    from tests.parents.conftest import assess, give

    c = child("Cai", bare=True)
    day = clock.today()
    if case == "outside the window":
        give(c.trial_id, 1, staff, "50", time(9, 0))
    assess(c.trial_id, 1, "baseline", "3", staff["pt"], datetime.combine(day, time(7, 0), tzinfo=UTC))
    assess(c.trial_id, 1, "post_dose", "1", staff["pt"], datetime.combine(day, time(9, 30), tzinfo=UTC))
    [shown] = progress(db.session.get(Trial, c.trial_id), clock.today()).days
    assert shown.stiffness is None
    assert shown.stiffness_note == ("The physiotherapist checked the stiffness in the legs. The team is looking at "
                                    "these checks.")


def test_the_goals_are_told_as_counts_never_in_staff_words(ctx, child, staff) -> None:  # type: ignore[no-untyped-def]
    from server.goals.services import rate_goals, set_goals

    c = child("Ada")
    goals = set_goals(c.trial_id, [("Sits with Drzed Surgeonname at lunch", 1), ("Dresses faster", 1),
                                   ("Stands to transfer", 2)], author_id=staff["pt"])
    day = db.session.get(Trial, c.trial_id).days[0]
    rate_goals(day.id, {goals[0].id: 1, goals[1].id: 0, goals[2].id: 2}, author_id=staff["pt"])
    db.session.commit()
    [shown] = progress(db.session.get(Trial, c.trial_id), clock.today()).days
    assert shown.goals == "The goals you agreed with the team, rated today: 2 better than expected, 1 as expected."
    assert "Drzed" not in (shown.goals or "")
