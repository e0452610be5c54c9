from __future__ import annotations

import logging
from datetime import timedelta

from flask import abort, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from sync import REUSED_ID_REASON, PushRequestSchema, PushResponse, Status, apply_push, response_body

from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user
from ..extensions import db
from ..web import clock
from ..web.errors import is_clash
from ..web.htmx import render
from ..web.jsonbody import request_json
from ..web.security import csrf_token
from . import bp
from .handlers import build_registry, keep_conflict
from .models import SyncConflict
from .openapi import openapi_document
from .store import SqlStore

log = logging.getLogger(__name__)
# Built once (a schema instance copies its fields when made); loading and dumping keep no state in them.
_push_request = PushRequestSchema()


def _registry():
    registry = current_app.extensions.get("sync_registry")
    if registry is None:
        registry = current_app.extensions["sync_registry"] = build_registry(
            current_app.config.get("SYNC_EXTRA_KINDS"))
    return registry


@bp.get("/api/session")
@roles_required(*STAFF)
def session_info():
    """Who is signed in, and the CSRF token the outbox sends with its next push."""
    user = current_user()
    response = jsonify(user_id=user.id, username=user.username, roles=sorted(user.roles),  # type: ignore[union-attr]
                       csrf_token=csrf_token())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/sync")
@roles_required(*STAFF)
def push():
    body = request_json(request)  # plain or gzip; None for a body that is not JSON, too deep, or holds NaN
    if not isinstance(body, dict):
        abort(400, description="Send a JSON object: {protocol_version, device_id, entries: [...]}, nested at "
                               f"most {current_app.config['MAX_JSON_DEPTH']} levels, with no NaN or Infinity.")
    try:
        push_request = _push_request.load(body)
    except ValidationError as err:
        return jsonify(error="Bad Request", message="The sync request is not valid; nothing was saved.",
                       errors=err.messages), 400
    unknown = sorted({e.kind for e in push_request.entries} - set(_registry().kinds()))
    if unknown:
        return jsonify(error="Bad Request", message=f"Unknown entry kind {unknown[0]!r}: update the app. "
                       "Nothing was saved.", errors={"entries": {"kind": unknown}}), 400
    user = current_user()
    foreign = {e.author_id for e in push_request.entries} - {user.id}  # type: ignore[union-attr]
    if foreign:
        abort(403, description="Entries made by another user wait on the phone until that user signs in.")
    results = apply_push(SqlStore(), push_request, _registry(), now=clock.now, max_clock_ahead=timedelta(
        minutes=current_app.config["DEVICE_CLOCK_AHEAD_MINUTES"]))
    # Same id sent again with other content: the engine wrote nothing; keep this version for review too.
    reused = [(e, r) for e, r in zip(push_request.entries, results, strict=True)
              if r.status is Status.CONFLICT and r.reason == REUSED_ID_REASON]
    if reused:
        for entry, result in reused:
            try:
                with db.session.begin_nested():
                    keep_conflict(entry, result.reason or REUSED_ID_REASON, result.record)
            except (IntegrityError, OperationalError) as exc:
                if not is_clash(exc):
                    raise  # another phone sending the same version at once kept it: one copy is enough
        db.session.commit()
    body = response_body(PushResponse(results=results, server_time=clock.now()))  # PushResponseSchema's dump
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/sync/conflicts")
@roles_required(*STAFF)
def conflicts():
    rows = db.session.scalars(select(SyncConflict).order_by(SyncConflict.received_at.desc()).limit(200)).all()
    return render("sync_api/conflicts.html", conflicts=rows)
