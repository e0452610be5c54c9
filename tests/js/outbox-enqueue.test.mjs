// outbox-core.js: saving entries (enqueue) and the entry-identity rule (docs/sync.md).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadOutbox, entry, plain, rowsById, IDBDatabase, fakeBroadcastChannel, USER, OTHER_USER } from "./harness.mjs";

// The same form content, with the payload's keys (at every level) in another order.
function reordered(e) {
  const p = e.payload;
  const payload = {};
  for (const k of Object.keys(p).reverse()) { payload[k] = p[k]; }
  const copy = {};
  for (const k of Object.keys(e).reverse()) { copy[k] = e[k]; }
  copy.payload = payload;
  return copy;
}

// Put an entry into a given state the way the outbox itself would leave it.
const STATE_PATCH = {
  pending: {},
  sending: { status: "sending" },
  sent: { status: "sent", sent_at: "2026-03-02T08:00:05.000Z", record: { type: "assessment", id: 4 } },
  conflict: { status: "conflict", reason: "Saved before with other content.", record: { type: "assessment", id: 4 } },
  rejected: { status: "rejected", reason: "Score is out of range.", errors: { score: ["Too high."] } },
  failed: { status: "failed", server_failures: 2, reason: "The server could not save this entry after 2 tries." },
};

async function savedIn(state, overrides = {}) {
  const loaded = loadOutbox();
  const e = entry(Object.assign({ payload: { patient: "12", score: "3", notes: "n", nested: { b: 1, a: [1, 2] } } },
    overrides));
  await loaded.Outbox.enqueue(e);
  await loaded.Outbox.update(e.id, STATE_PATCH[state]);
  const before = plain(await loaded.Outbox.get(e.id));
  assert.equal(before.status, state);
  loaded.clock.advance(60000);  // a later save: a new saved_at would show
  return Object.assign(loaded, { e, before });
}

describe("enqueue: a new entry", { timeout: 10000 }, () => {
  test("is stored pending with saved_at and the defaults, and the returned row says 'saved'", async () => {
    const { Outbox, clock } = loadOutbox();
    const e = entry();
    const row = await Outbox.enqueue(e);
    assert.equal(row.outcome, "saved");
    assert.equal(row.id, e.id);
    assert.equal(row.status, "pending");
    assert.equal(row.saved_at, clock.iso());

    const stored = plain(await Outbox.get(e.id));
    const { outcome, ...asReturned } = plain(row);
    assert.equal(outcome, "saved");
    assert.deepEqual(stored, asReturned);
    assert.deepEqual(stored, Object.assign({}, plain(e), {
      status: "pending", saved_at: clock.iso(), attempts: 0, server_failures: 0, last_error: null, reason: null,
      errors: null }));
    assert.equal((await Outbox.all()).length, 1);
  });

  test("is committed when enqueue resolves: another tab on the same database reads it at once", async () => {
    const first = loadOutbox();
    const e = entry();
    await first.Outbox.enqueue(e);
    const other = loadOutbox({ idb: first.idb });
    assert.equal((await other.Outbox.get(e.id)).status, "pending");
  });

  test("writes with strict durability", async () => {
    const seen = [];
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (stores, mode, options) {
      seen.push({ mode, durability: options && options.durability });
      return original.apply(this, arguments);
    };
    try {
      const { Outbox } = loadOutbox();
      const e = entry();
      await Outbox.enqueue(e);
      await Outbox.update(e.id, { label: "x" });
    } finally {
      IDBDatabase.prototype.transaction = original;
    }
    const writes = seen.filter((s) => s.mode === "readwrite");
    assert.ok(writes.length >= 2);
    assert.ok(writes.every((s) => s.durability === "strict"), JSON.stringify(writes));
  });

  test("two different entries saved at once are both kept", async () => {
    const { Outbox } = loadOutbox();
    const a = entry();
    const b = entry();
    const [ra, rb] = await Promise.all([Outbox.enqueue(a), Outbox.enqueue(b)]);
    assert.equal(ra.outcome, "saved");
    assert.equal(rb.outcome, "saved");
    assert.deepEqual(Object.keys(await rowsById(Outbox)).sort(), [a.id, b.id].sort());
  });
});

describe("enqueue: the same id with the same content is the same entry", { timeout: 10000 }, () => {
  for (const state of ["pending", "sending", "sent", "conflict"]) {
    test(`in state ${state}: 'unchanged', nothing new stored, the entry untouched`, async () => {
      const { Outbox, e, before } = await savedIn(state);
      const again = reordered(e);
      again.payload.nested = { a: [1, 2], b: 1 };   // keys in another order one level down too
      const row = await Outbox.enqueue(again);
      assert.equal(row.outcome, "unchanged");
      assert.equal(row.id, e.id, "no new id: a second id would double the entry on the server");
      assert.equal(row.status, state);
      const rows = await rowsById(Outbox);
      assert.deepEqual(Object.keys(rows), [e.id]);
      assert.deepEqual(rows[e.id], before);
    });
  }

  test("base_rev missing and base_rev null are the same content", async () => {
    const { Outbox, e } = await savedIn("sending");
    const again = Object.assign({}, e);
    delete again.base_rev;
    assert.equal((await Outbox.enqueue(again)).outcome, "unchanged");
    assert.equal((await Outbox.all()).length, 1);
  });

  test("sameContent: kind, author, base revision and canonical payload; list order matters", async () => {
    const { Outbox } = loadOutbox();
    const a = entry({ payload: { x: "1", y: { p: 1, q: [1, 2] } }, base_rev: 3 });
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { payload: { y: { q: [1, 2], p: 1 }, x: "1" } })), true);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { payload: { x: "1", y: { p: 1, q: [2, 1] } } })), false);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { kind: "dosing.observe" })), false);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { author_id: OTHER_USER })), false);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { base_rev: 4 })), false);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { base_rev: null })), false);
    assert.equal(Outbox.sameContent(a, Object.assign({}, a, { recorded_at: "2020-01-01T00:00:00Z", label: "x" })),
      true, "when or where it was recorded is not content");
  });

  for (const state of ["rejected", "failed"]) {
    test(`in state ${state}: 'retry', back to pending with the same id and the reasons cleared`, async () => {
      const { Outbox, e, before } = await savedIn(state);
      const row = await Outbox.enqueue(reordered(e));
      assert.equal(row.outcome, "retry");
      assert.equal(row.id, e.id);
      const rows = await rowsById(Outbox);
      assert.deepEqual(Object.keys(rows), [e.id]);
      assert.deepEqual(rows[e.id], Object.assign({}, before, {
        status: "pending", reason: null, errors: null, server_failures: 0, last_error: null }));
    });
  }

  test("a retried rejected entry is sent again under its own id", async () => {
    const { Outbox, server, e } = await savedIn("rejected");
    await Outbox.enqueue(e);
    await Outbox.flush();
    assert.deepEqual(server.sentIds(), [e.id]);
    assert.equal((await Outbox.get(e.id)).status, "sent");
  });
});

describe("enqueue: the same id with changed content is a new entry", { timeout: 10000 }, () => {
  const changes = {
    payload: (e) => ({ payload: Object.assign({}, e.payload, { score: "4" }) }),
    kind: () => ({ kind: "assessments.correct" }),
    base_rev: () => ({ base_rev: 5 }),
    author: () => ({ author_id: OTHER_USER }),
  };

  for (const state of ["pending", "sending", "sent", "conflict"]) {
    test(`in state ${state}: 'new', a new id, the existing entry untouched`, async () => {
      const { Outbox, e, before, clock } = await savedIn(state);
      const changed = Object.assign({}, e, changes.payload(e));
      const row = await Outbox.enqueue(changed);
      assert.equal(row.outcome, "new");
      assert.notEqual(row.id, e.id);
      assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const rows = await rowsById(Outbox);
      assert.equal(Object.keys(rows).length, 2);
      assert.deepEqual(rows[e.id], before, "the entry already saved is never overwritten");
      assert.deepEqual(rows[row.id], Object.assign({}, plain(changed), {
        id: row.id, follows_local: e.id, status: "pending", saved_at: clock.iso(), attempts: 0,
        server_failures: 0, last_error: null, reason: null, errors: null }));
    });
  }

  for (const state of ["rejected", "failed"]) {
    test(`in state ${state}: 'new', and the existing entry becomes 'replaced' (replaced_by the new id)`, async () => {
      const { Outbox, e, before, clock } = await savedIn(state);
      const row = await Outbox.enqueue(Object.assign({}, e, changes.payload(e)));
      assert.equal(row.outcome, "new");
      assert.notEqual(row.id, e.id);
      const rows = await rowsById(Outbox);
      assert.equal(Object.keys(rows).length, 2);
      assert.deepEqual(rows[e.id], Object.assign({}, before, {
        status: "replaced", replaced_by: row.id, replaced_at: clock.iso() }));
      assert.equal(rows[row.id].status, "pending");
      assert.equal(rows[row.id].payload.score, "4");
    });
  }

  for (const [what, change] of Object.entries(changes)) {
    test(`a change of ${what} alone makes a new entry`, async () => {
      const { Outbox, e, before } = await savedIn("pending");
      const row = await Outbox.enqueue(Object.assign({}, e, change(e)));
      assert.equal(row.outcome, "new");
      const rows = await rowsById(Outbox);
      assert.equal(Object.keys(rows).length, 2);
      assert.deepEqual(rows[e.id], before);
    });
  }

  test("a pending entry and its changed save are both sent, each with its own content", async () => {
    const { Outbox, server, e } = await savedIn("pending");
    const row = await Outbox.enqueue(Object.assign({}, e, { payload: Object.assign({}, e.payload, { score: "4" }) }));
    await Outbox.flush();
    const sent = Object.fromEntries(server.syncRequests.flatMap((r) => r.body.entries).map((x) => [x.id, x]));
    assert.deepEqual(Object.keys(sent).sort(), [e.id, row.id].sort());
    assert.equal(sent[e.id].payload.score, "3");
    assert.equal(sent[row.id].payload.score, "4");
    assert.deepEqual(Object.values(await rowsById(Outbox)).map((r) => r.status), ["sent", "sent"]);
  });
});

describe("enqueue while the entry is being sent (the doubling bug)", { timeout: 10000 }, () => {
  test("saving the same form again during the send is the same entry: one id reaches the server", async () => {
    const { Outbox, server } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    const release = server.hold();
    const flushing = Outbox.flush();
    await server.waitForSync(1);
    assert.equal((await Outbox.get(e.id)).status, "sending");

    const again = await Outbox.enqueue(reordered(e));   // the user taps Save again
    assert.equal(again.outcome, "unchanged");
    assert.equal(again.id, e.id);
    const followUp = Outbox.flush();                     // outbox-ui flushes after every save
    release();
    await flushing;
    await followUp;

    assert.deepEqual(server.sentIds(), [e.id]);
    assert.equal(server.appliedCount.get(e.id), 1);
    const rows = await rowsById(Outbox);
    assert.deepEqual(Object.keys(rows), [e.id]);
    assert.equal(rows[e.id].status, "sent");
  });

  test("changing the form during the send makes a second entry; both arrive, the first as it was", async () => {
    const { Outbox, server } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    const release = server.hold();
    const flushing = Outbox.flush();
    await server.waitForSync(1);
    const changed = await Outbox.enqueue(Object.assign({}, e, { payload: { patient: "12", score: "0" } }));
    assert.equal(changed.outcome, "new");
    const followUp = Outbox.flush();
    release();
    await Promise.all([flushing, followUp]);

    assert.deepEqual(server.sentIds(), [e.id, changed.id]);
    assert.deepEqual(server.syncRequests[0].body.entries[0].payload, e.payload);
    const rows = await rowsById(Outbox);
    assert.equal(rows[e.id].status, "sent");
    assert.equal(rows[changed.id].status, "sent");
  });
});

describe("notifications", { timeout: 10000 }, () => {
  test("a BroadcastChannel hears saves and flushes, not an unchanged save", async () => {
    const { BroadcastChannel, posted } = fakeBroadcastChannel();
    const { Outbox } = loadOutbox({ BroadcastChannel });
    assert.equal(Outbox.channel.name, "itb-outbox");
    const e = entry();
    await Outbox.enqueue(e);
    assert.deepEqual(posted.map((m) => [m.type, m.what]), [["OUTBOX_CHANGED", "saved"]]);
    await Outbox.enqueue(e);
    assert.equal(posted.length, 1, "an unchanged save says nothing");
    await Outbox.flush();
    const what = posted.map((m) => m.what);
    assert.ok(what.includes("sending"));
    assert.equal(what[what.length - 1], "flushed");
  });

  test("in a page, the document gets an outbox:changed event", async () => {
    const events = [];
    const document = { dispatchEvent: (ev) => { events.push([ev.type, ev.detail.what]); return true; } };
    const { Outbox } = loadOutbox({ document });
    await Outbox.enqueue(entry());
    assert.deepEqual(events, [["outbox:changed", "saved"]]);
  });
});

describe("summary", { timeout: 10000 }, () => {
  test("counts this user's waiting entries, other users' entries and what needs attention", async () => {
    const { Outbox } = loadOutbox();
    const mine = [entry(), entry(), entry(), entry(), entry(), entry()];
    const theirs = [entry({ author_id: OTHER_USER }), entry({ author_id: OTHER_USER })];
    for (const e of [...mine, ...theirs]) { await Outbox.enqueue(e); }
    await Outbox.update(mine[1].id, { status: "sending" });
    await Outbox.update(mine[2].id, { status: "rejected" });
    await Outbox.update(mine[3].id, { status: "conflict" });
    await Outbox.update(mine[4].id, { status: "failed" });
    await Outbox.update(mine[5].id, { status: "sent" });
    await Outbox.update(theirs[1].id, { status: "rejected" });
    const s = await Outbox.summary(USER);
    assert.equal(s.pending, 2);
    assert.equal(s.pendingOthers, 1);
    assert.equal(s.attention, 3);
    assert.equal(s.entries.length, 8);
    assert.deepEqual(plain(s.state), { phase: "idle" });
    assert.equal(s.lastSync, null);
    const all = await Outbox.summary();
    assert.equal(all.pending, 3);
    assert.equal(all.pendingOthers, 0);
    assert.equal(all.attention, 4);
  });
});
