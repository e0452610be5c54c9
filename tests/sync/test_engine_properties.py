"""Property test: a client outbox over a lossy, crashy network never loses or doubles an entry.

The client keeps an outbox of entries (some rows deliberately repeat an entry:
same id, same content, e.g. a double save).  Random actions: send a random
subset (with repeats) in random order; the server may crash on the k-th
handler call (the batch rolls back); the server's registry may apply
"assessments.record" through a batch handler, which counts each entry as one
call, so the crash can hit in the middle of a run; the response may be lost after the
server committed; the last request may be sent again.  The client drops an
entry only on an APPLIED/DUPLICATE result it actually received.  Finally
everything left is delivered reliably.  Everything goes through the JSON
wire format (PushRequestSchema / PushResponseSchema) as in production.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import (
    MAX_ENTRIES_PER_BATCH,
    PROTOCOL_VERSION,
    Entry,
    EntryResult,
    MemoryStore,
    Outcome,
    PushRequest,
    PushRequestSchema,
    PushResponse,
    PushResponseSchema,
    Registry,
    Status,
    apply_push,
)

SERVER_TIME = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)  # after every entry's time (the phone clocks drawn below)
ACKED = {Status.APPLIED, Status.DUPLICATE}


class ServerCrash(RuntimeError):
    """Stands for a lost database connection or a killed worker mid-batch."""


@dataclass
class Server:
    store: MemoryStore = field(default_factory=MemoryStore)
    batch: bool = False  # apply "assessments.record" through a batch handler
    crash_on_call: int | None = None
    calls: int = 0  # entries handled in the current request, by either handler
    single_calls: int = 0
    batch_calls: int = 0

    def _count_call(self) -> None:
        self.calls += 1
        if self.crash_on_call is not None and self.calls >= self.crash_on_call:
            raise ServerCrash

    def registry(self) -> Registry:
        def record(entry: Entry) -> dict[str, Any]:
            self.single_calls += 1
            self._count_call()
            n = len(self.store.records) + 1
            self.store.records[f"row:{n}"] = {"entry_id": entry.id, "payload": entry.payload}
            return {"type": "assessment", "id": n}

        def record_many(entries: Sequence[Entry]) -> list[Outcome]:
            self.batch_calls += 1
            first = len(self.store.records) + 1
            outcomes: list[Outcome] = []
            for n, entry in enumerate(entries, start=first):
                self._count_call()  # the k-th entry crashes, after the earlier ones were written
                self.store.records[f"row:{n}"] = {"entry_id": entry.id, "payload": entry.payload}
                outcomes.append({"type": "assessment", "id": n})
            return outcomes

        registry = Registry()
        registry.register("assessments.record", record, many=record_many if self.batch else None)
        return registry

    def handle(self, body: str, crash_on_call: int | None) -> str | None:
        """One HTTP request: JSON in, JSON out, or None for a 5xx."""
        request = PushRequestSchema().loads(body)
        assert isinstance(request, PushRequest)
        self.calls = 0
        self.crash_on_call = crash_on_call
        try:
            results = apply_push(self.store, request, self.registry(), now=lambda: SERVER_TIME)
        except ServerCrash:
            return None
        finally:
            self.crash_on_call = None
        return json.dumps(PushResponseSchema().dump(PushResponse(results=results, server_time=SERVER_TIME)))

    def stored_entry_ids(self) -> list[str]:
        return [row["entry_id"] for row in self.store.records.values()]


def wire(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "payload": entry.payload,
        "author_id": entry.author_id,
        "device_id": entry.device_id,
        "recorded_at": entry.recorded_at.isoformat(),
        "base_rev": entry.base_rev,
        "form_version": entry.form_version,
    }


def request_body(batch: list[Entry]) -> str:
    return json.dumps(
        {"protocol_version": PROTOCOL_VERSION, "device_id": "phone-1", "entries": [wire(e) for e in batch]},
        ensure_ascii=False,
    )


def read_results(response: str) -> list[EntryResult]:
    loaded = PushResponseSchema().loads(response)
    assert isinstance(loaded, PushResponse)
    return loaded.results


# Text without NUL or lone surrogates: an entry holding one is refused (sync.protocol.implausible).
texts = st.characters(codec="utf-8", exclude_characters="\x00")
json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(texts, max_size=8)
payloads = st.dictionaries(
    st.text(texts, min_size=1, max_size=6),
    json_scalars | st.lists(json_scalars, max_size=3)
    | st.dictionaries(st.text(texts, max_size=4), json_scalars, max_size=2),
    max_size=4,
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
aware_times = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=zones)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    return Entry(
        id=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        kind="assessments.record",
        payload=draw(payloads),
        author_id=draw(st.integers(1, 3)),
        device_id="phone-1",
        recorded_at=draw(aware_times),
        base_rev=draw(st.none() | st.integers(0, 5)),
        form_version=draw(st.integers(1, 2)),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    created=st.lists(entries(), min_size=1, max_size=10, unique_by=lambda e: e.id),
    use_batch=st.booleans(),
    data=st.data(),
)
def test_lossy_network_stores_every_entry_exactly_once(
    created: list[Entry], use_batch: bool, data: st.DataObject
) -> None:
    server = Server(batch=use_batch)
    # Outbox rows; some rows repeat an entry (same id, same content).
    repeats = data.draw(st.lists(st.sampled_from(created), max_size=4), label="repeated rows")
    outbox: list[Entry] = created + repeats
    last_request: tuple[str, list[Entry]] | None = None
    seen_statuses: set[Status] = set()

    def receive(response: str | None, sent: list[Entry]) -> None:
        nonlocal outbox
        if response is None:
            return
        results = read_results(response)
        assert [r.id for r in results] == [e.id for e in sent]
        seen_statuses.update(r.status for r in results)
        acked = {r.id for r in results if r.status in ACKED}
        outbox = [e for e in outbox if e.id not in acked]

    steps = data.draw(st.integers(0, 12), label="steps")
    for _ in range(steps):
        action = data.draw(st.sampled_from(["send", "send", "send", "resend_last"]), label="action")
        if action == "resend_last":
            if last_request is None:
                continue
            body, sent = last_request
        else:
            if not outbox:
                continue
            picks = data.draw(st.lists(st.sampled_from(outbox), min_size=1, max_size=len(outbox) + 2), label="batch")
            sent = data.draw(st.permutations(picks), label="order")
            body = request_body(sent)
            last_request = (body, sent)
        crash_on_call = data.draw(st.none() | st.integers(1, len(sent)), label="crash on handler call")
        delivered = data.draw(st.booleans(), label="response delivered")
        before = (dict(server.store.records), dict(server.store.ledger))
        response = server.handle(body, crash_on_call)
        if response is None:  # a crash, possibly in the middle of a run, rolls back all of the request
            assert (server.store.records, server.store.ledger) == before
        receive(response if delivered else None, sent)
        # Never lost: anything the client dropped is on the server.
        dropped = {e.id for e in created} - {e.id for e in outbox}
        assert dropped <= set(server.stored_entry_ids())

    # Finally the network behaves: send what is left, in full batches.
    remaining = list(outbox)
    for start in range(0, len(remaining), MAX_ENTRIES_PER_BATCH):
        batch = remaining[start : start + MAX_ENTRIES_PER_BATCH]
        receive(server.handle(request_body(batch), None), batch)

    assert outbox == []
    stored = server.stored_entry_ids()
    assert sorted(stored) == sorted(e.id for e in created)  # each id exactly once, nothing extra
    assert len(stored) == len(set(stored))
    assert set(server.store.ledger) == {e.id for e in created}
    assert all(row.status is Status.APPLIED for row in server.store.ledger.values())
    by_id = {e.id: e for e in created}
    for row in server.store.records.values():
        assert row["payload"] == by_id[row["entry_id"]].payload
    for ledger_row in server.store.ledger.values():  # each answer names the row stored for its own entry
        record = ledger_row.result.record
        assert record is not None
        assert server.store.records[f"row:{record['id']}"]["entry_id"] == ledger_row.entry_id
    assert seen_statuses <= ACKED  # identical content never conflicts or is rejected
    if use_batch:  # the fast path did all the work
        assert server.single_calls == 0
        assert server.batch_calls > 0
    else:
        assert server.batch_calls == 0
