"""Writes an audit row for every insert, update and delete of an Audited model, inside the same flush.

Services are the one write path; this hook makes sure none of them can forget the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from ..web import clock
from .context import current_actor
from .models import AuditEvent

REDACTED = "[redacted]"


class Audited:
    """Mixin: changes to this model are audited. `__audit_redact__` names columns never copied."""

    __audit_redact__: frozenset[str] = frozenset()


class Scope:
    """The models an audit row is scoped by (its trial and child): a patient, a trial, and a trial day, whose
    `trial_id` many records carry. The trials package names them when its models are imported (`scoped_by`),
    so this package, which every model imports, imports no feature."""

    patient: Any = None
    trial: Any = None
    day: Any = None


def scoped_by(*, patient: Any, trial: Any, day: Any) -> None:
    Scope.patient, Scope.trial, Scope.day = patient, trial, day


def patient_of(trial_id: int | None) -> int | None:
    """The child of a trial (None without a trial), in the session's transaction."""
    if trial_id is None:
        return None
    table = Scope.trial.__table__
    return db.session.scalar(select(table.c.patient_id).where(table.c.id == trial_id))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


_COLUMNS: dict[type, list[str]] = {}


def _columns(model: type) -> list[str]:
    keys = _COLUMNS.get(model)
    if keys is None:
        mapper: Mapper[Any] = inspect(model)
        keys = _COLUMNS[model] = [attr.key for attr in mapper.column_attrs]
    return keys


_AS_IS = frozenset({str, int, float, bool, type(None)})  # exact types `_plain` returns unchanged


def _snapshot(model: type, get: Callable[[str], Any]) -> dict[str, Any]:
    """Every column of a record (`get(key)` reads one), the redacted ones replaced: a create or delete row."""
    redact = model.__audit_redact__  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    for k in _columns(model):
        if k in redact:
            out[k] = REDACTED
        else:
            value = get(k)
            out[k] = value if type(value) in _AS_IS else _plain(value)
    return out


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    redact = obj.__audit_redact__
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(type(obj)):
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        before[key] = REDACTED if key in redact else _plain(old)
        after[key] = REDACTED if key in redact else _plain(new)
    return before, after


def _entity_id(obj: Any) -> str:
    return _entity_id_of(type(obj), _getter(obj))


_PK_KEYS: dict[type, list[str]] = {}


def _entity_id_of(model: type, get: Callable[[str], Any]) -> str:
    """`_entity_id` for a record given by its column values."""
    keys = _PK_KEYS.get(model)
    if keys is None:
        mapper: Mapper[Any] = inspect(model)
        keys = _PK_KEYS[model] = [mapper.get_property_by_column(col).key for col in mapper.primary_key]
    return ",".join(str(get(k)) for k in keys)


# A record's scope facts: (trial id, patient id, trial day id), whichever it names itself.
Facts = tuple[int | None, int | None, int | None]


def _facts(model: type, get: Callable[[str], Any]) -> Facts:
    if issubclass(model, Scope.patient):
        return (None, get("id"), None)
    if issubclass(model, Scope.trial):
        return (get("id"), get("patient_id"), None)
    return (get("trial_id"), None, get("trial_day_id"))


def _getter(obj: Any) -> Callable[[str], Any]:
    return lambda key: getattr(obj, key, None)


def _base() -> dict[str, Any]:
    """Who and when, for every row of one flush (or one bulk write)."""
    actor = current_actor()
    return {
        "at": clock.now(),
        "actor_id": actor.user_id if actor else None,
        "device_id": actor.device_id if actor else None,
        "via": actor.via if actor else "system",
    }


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, _ctx: Any) -> None:
    rows: list[dict[str, Any]] = []
    base = _base()
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append({**base, "action": "create", "entity_type": type(obj).__name__,
                         "entity_id": _entity_id(obj), "before": None,
                         "after": _snapshot(type(obj), _getter(obj))})
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append({**base, "action": "update", "entity_type": type(obj).__name__,
                             "entity_id": _entity_id(obj), "before": before, "after": after})
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append({**base, "action": "delete", "entity_type": type(obj).__name__,
                         "entity_id": _entity_id(obj), "before": _snapshot(type(obj), _getter(obj)),
                         "after": None})
    if rows:
        objects = [o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Audited)]
        _scope(session, rows, {(type(o).__name__, _entity_id(o)): _facts(type(o), _getter(o)) for o in objects})
        session.connection().execute(insert(AuditEvent.__table__), rows)


def record_created(session: Session, model: type, records: Sequence[Mapping[str, Any]]) -> None:
    """The audit rows the flush hook writes for new records of `model`, for records inserted without the ORM
    unit of work (a multi-row `INSERT ... RETURNING`, which the hook never sees): the same columns and values
    (`records`: every column's value as inserted, the primary key included), the same trial and child, the same
    actor, device and via. One INSERT, and at most the hook's two scope queries."""
    if not records:
        return
    if not issubclass(model, Audited):
        raise TypeError(f"{model.__name__} is not audited")
    keys = _columns(model)
    every = frozenset(keys)
    base = _base()
    rows: list[dict[str, Any]] = []
    found: dict[tuple[str, str], Facts] = {}
    for record in records:
        if not every <= record.keys():  # the hook reads every column from the object: a record must name them all
            raise ValueError(f"{model.__name__} record without {', '.join(k for k in keys if k not in record)}")
        get = record.__getitem__
        entity_id = _entity_id_of(model, get)
        rows.append({**base, "action": "create", "entity_type": model.__name__, "entity_id": entity_id,
                     "before": None, "after": _snapshot(model, get)})
        found[(model.__name__, entity_id)] = _facts(model, get)
    _scope(session, rows, found)
    session.connection().execute(insert(AuditEvent.__table__), rows)


def _scope(session: Session, rows: list[dict[str, Any]], found: dict[tuple[str, str], Facts]) -> None:
    """Fill in each row's trial and patient from its record's facts (`_facts`): a trial, a patient, or anything
    with a trial_id or a trial_day_id (two small queries per flush at most, on the flush's own connection)."""
    days = {d for t, _, d in found.values() if t is None and d is not None}
    day_trial = _column_by_id(session, Scope.day, days, "trial_id")
    trials = {t if t is not None else day_trial.get(d) if d is not None else None for t, _, d in found.values()}
    trials.discard(None)
    trial_patient = _column_by_id(session, Scope.trial, trials, "patient_id")
    for row in rows:
        trial_id, patient_id, day_id = found.get((row["entity_type"], row["entity_id"]), (None, None, None))
        if trial_id is None and day_id is not None:
            trial_id = day_trial.get(day_id)
        row["trial_id"] = trial_id
        row["patient_id"] = patient_id if patient_id is not None or trial_id is None else trial_patient.get(trial_id)



def _column_by_id(session: Session, model: Any, ids: set[Any], column: str) -> dict[int, int]:
    """`column` of the `model` rows with these ids: from the session's loaded objects where it holds them, the
    rest in one query on the session's own connection."""
    out: dict[int, int] = {}
    for pk in ids:
        obj = session.identity_map.get(identity_key(model, pk))
        value = inspect(obj).dict.get(column) if obj is not None else None
        if value is not None:
            out[pk] = value
    if ids - out.keys():
        table = model.__table__
        out.update(session.connection().execute(select(table.c.id, table.c[column])
                                                .where(table.c.id.in_(ids - out.keys()))).all())
    return out
