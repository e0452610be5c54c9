"""The sync API described as OpenAPI 3, generated from the same marshmallow schemas the endpoint uses."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from sync import MAX_ENTRIES_PER_BATCH, PROTOCOL_VERSION, EntrySchema, PushRequestSchema, PushResponseSchema

ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                          "errors": {"type": "object"}}, "required": ["error", "message"]}


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(title="ITB trial sync API", version=str(PROTOCOL_VERSION), openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Offline entries from the phone's outbox, applied exactly once. "
                                        "See docs/sync.md. Authentication: the staff session cookie; "
                                        "unsafe requests carry the X-CSRFToken header from GET /api/session."})
    spec.components.schema("Entry", schema=EntrySchema)
    spec.components.schema("PushRequest", schema=PushRequestSchema)
    spec.components.schema("PushResponse", schema=PushResponseSchema)
    spec.components.schema("Error", ERROR)
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    spec.path(path="/api/session", operations={"get": {
        "summary": "The signed-in user and a CSRF token for the next push",
        "responses": {"200": {"description": "Signed in", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"user_id": {"type": "integer"}, "username": {"type": "string"},
                                             "roles": {"type": "array", "items": {"type": "string"}},
                                             "csrf_token": {"type": "string"}}}}}},
                      "401": {"description": "Not signed in: the outbox pauses", **err}}}})
    spec.path(path="/api/sync", operations={"post": {
        "summary": f"Push up to {MAX_ENTRIES_PER_BATCH} entries; one result per entry, in order",
        "description": "applied / duplicate: the phone may drop the entry. conflict: both versions kept on "
                       "the server. rejected: nothing written, reason and field errors given (also for an entry "
                       "holding a value out of bounds: a phone clock before 2000 or ahead of the server, an "
                       "integer beyond 2^31-1, a NUL character); the phone keeps the entry as 'needs "
                       "attention'. Any 4xx/5xx: nothing written, retry later.",
        "parameters": [{"in": "header", "name": "X-CSRFToken", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": "PushRequest"}}},
        "responses": {
            "200": {"description": "One result per entry",
                    "content": {"application/json": {"schema": "PushResponse"}}},
            "400": {"description": "Malformed request, wrong protocol version, or missing CSRF token", **err},
            "401": {"description": "Not signed in", **err},
            "403": {"description": "Entries of another user", **err},
            "413": {"description": "Body too large", **err},
            "503": {"description": "Busy (the database's write lock, or concurrent pushes of the same entries that "
                                   "kept clashing): nothing written, retry after Retry-After", **err}}}})
    return spec.to_dict()
