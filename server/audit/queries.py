"""Reading the audit log: the filters a reviewer asks with (trial, child, user, action, dates), a page of
events, and each event's changes as old → new. The one read path for the viewer and its CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from ..extensions import db
from ..web.clock import local_to_utc
from .models import AuditEvent
from .tracking import REDACTED

PAGE_SIZE = 50
# Events counted at most: past this the viewer says "1,000+" and pages back that far (narrow with a filter, or
# download the CSV, which has them all). Counting every match of years of log would read millions of rows.
COUNT_CAP = 1_000
ACTIONS = {"create": "Created", "update": "Changed", "delete": "Deleted", "read": "Read", "export": "Exported"}
# Where a record can be read in the app (the values the log leaves out live there).
RECORD_PAGES = {"Assessment": "/assessments/{id}", "Trial": "/trials/{id}"}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    changes: list[Change]
    record_url: str | None

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.event.action, self.event.action)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    total: int  # at most COUNT_CAP
    more: bool = False  # more than COUNT_CAP events match

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if value == REDACTED:
        return "(in the record)"
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else ", ".join(
            f"{k}: {v}" for k, v in value.items())
    return str(value)


def changes(event: AuditEvent) -> list[Change]:
    """What the event changed, field by field, old → new (a creation lists what was set; a deletion what was
    removed)."""
    before, after = event.before or {}, event.after or {}
    fields = list(dict.fromkeys([*after.keys(), *before.keys()]))
    out = []
    for name in fields:
        old = "—" if event.action == "create" else _shown(before.get(name))
        new = "—" if event.action == "delete" else _shown(after.get(name))
        out.append(Change(name, old, new))
    return out


def _record_url(event: AuditEvent) -> str | None:
    pattern = RECORD_PAGES.get(event.entity_type)
    return pattern.format(id=event.entity_id) if pattern and event.action != "delete" else None


def _filtered(filters: dict[str, Any]) -> Select[Any]:
    q = select(AuditEvent)
    if filters.get("trial_id"):
        q = q.where(AuditEvent.trial_id == filters["trial_id"])
    if filters.get("patient_id"):
        q = q.where(AuditEvent.patient_id == filters["patient_id"])
    if filters.get("user_id"):
        q = q.where(AuditEvent.actor_id == filters["user_id"])
    if filters.get("action"):
        q = q.where(AuditEvent.action == filters["action"])
    if filters.get("entity_type"):
        q = q.where(AuditEvent.entity_type == filters["entity_type"])
    since: date | None = filters.get("since")
    until: date | None = filters.get("until")
    if since:
        q = q.where(AuditEvent.at >= local_to_utc(since, time(0, 0)))
    if until:
        q = q.where(AuditEvent.at < local_to_utc(until + timedelta(days=1), time(0, 0)))
    return q


def search(filters: dict[str, Any], page: int = 1) -> Page:
    """One page of events matching `filters` (trial_id, patient_id, user_id, action, entity_type, since,
    until: local dates, inclusive), newest first (time, then id). Two queries, each reading at most COUNT_CAP
    index entries through the (trial, patient or actor, time) and time indexes, however long the log."""
    q = _filtered(filters)
    newest_first = (AuditEvent.at.desc(), AuditEvent.id.desc())
    # Counted in the page's order, so the count walks the same (filter, time) or time index from the newest
    # event and stops after COUNT_CAP + 1 (unordered, PostgreSQL may scan the table in storage order instead).
    counted = db.session.scalar(select(func.count()).select_from(
        q.with_only_columns(AuditEvent.id).order_by(*newest_first).limit(COUNT_CAP + 1).subquery())) or 0
    total = min(counted, COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    events = db.session.scalars(q.order_by(*newest_first)
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return Page([Row(e, changes(e), _record_url(e)) for e in events], page, total, more=counted > COUNT_CAP)


def export_rows(filters: dict[str, Any], names: dict[int, str]) -> Iterator[list[str]]:
    """Every matching event as CSV rows (one row per changed field), oldest first, streamed in chunks."""
    yield ["event_id", "at_utc", "who", "via", "device", "action", "record_type", "record_id", "trial_id",
           "patient_id", "field", "old", "new"]
    q = _filtered(filters).order_by(AuditEvent.id).execution_options(yield_per=500)
    for event in db.session.scalars(q):
        base = [str(event.id), event.at.isoformat(), names.get(event.actor_id or 0, "system"), event.via,
                event.device_id or "", event.action, event.entity_type, event.entity_id,
                "" if event.trial_id is None else str(event.trial_id),
                "" if event.patient_id is None else str(event.patient_id)]
        rows = changes(event) or [Change("", "", "")]
        for ch in rows:
            yield [*base, ch.field, ch.old, ch.new]


def entity_types() -> list[str]:
    """The record types the log can hold: every audited model (reads and exports name one of them too; no query: a
    DISTINCT over the whole log would read all of it)."""
    from .tracking import Audited

    mappers = db.Model.registry.mappers  # type: ignore[attr-defined]
    names = {mapper.class_.__name__ for mapper in mappers if issubclass(mapper.class_, Audited)}
    return sorted(names)
