"""Offline sync: protocol, apply engine and storage interface (no Flask here)."""

from .engine import REUSED_ID_REASON, apply_push
from .errors import Clash, Conflict, Rejected, SyncError, UnknownKind
from .memory import MemoryStore
from .protocol import (
    MAX_ENTRIES_PER_BATCH,
    PROTOCOL_VERSION,
    Entry,
    EntryResult,
    EntryResultSchema,
    EntrySchema,
    PushRequest,
    PushRequestSchema,
    PushResponse,
    PushResponseSchema,
    Status,
    payload_hash,
    response_body,
    result_body,
)
from .registry import BatchHandler, Handler, Outcome, Registry
from .store import LedgerRow, Store

__all__ = [
    "MAX_ENTRIES_PER_BATCH",
    "PROTOCOL_VERSION",
    "REUSED_ID_REASON",
    "BatchHandler",
    "Clash",
    "Conflict",
    "Entry",
    "EntryResult",
    "EntryResultSchema",
    "EntrySchema",
    "Handler",
    "LedgerRow",
    "MemoryStore",
    "Outcome",
    "PushRequest",
    "PushRequestSchema",
    "PushResponse",
    "PushResponseSchema",
    "Registry",
    "Rejected",
    "Status",
    "Store",
    "SyncError",
    "UnknownKind",
    "apply_push",
    "payload_hash",
    "response_body",
    "result_body",
]
