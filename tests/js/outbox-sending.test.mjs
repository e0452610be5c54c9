// outbox-core.js: what is sent (whose entries, in what order, in what shape), pruning, and flushes racing.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadOutbox, fakeServer, fakeLocks, makeClock, entry, plain, rowsById, statuses, IDBFactory, DAY,
  USER, OTHER_USER, CSRF } from "./harness.mjs";

// `n` entries saved 10 ms apart, oldest first: their ids.
async function enqueueMany(Outbox, clock, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const e = entry();
    ids.push(e.id);
    await Outbox.enqueue(e);
    clock.advance(10);
  }
  return ids;
}

describe("what is sent", { timeout: 10000 }, () => {
  test("the request: POST /api/sync, protocol 1, the entry fields only, the session's CSRF token", async () => {
    const { Outbox, server } = loadOutbox();
    const full = entry({ base_rev: 4, form_version: 2, device_id: "phone-9" });
    const bare = entry({ device_id: "phone-9" });
    delete bare.base_rev;
    delete bare.form_version;
    await Outbox.enqueue(full);
    await Outbox.enqueue(bare);
    await Outbox.flush();

    assert.equal(server.sessionRequests.length, 1);
    assert.equal(server.syncRequests.length, 1);
    const req = server.syncRequests[0];
    assert.equal(req.method, "POST");
    assert.equal(req.credentials, "same-origin");
    assert.equal(req.headers["X-CSRFToken"], CSRF);
    assert.equal(req.headers["Content-Type"], "application/json");
    assert.equal(req.headers["X-Device-Id"], "phone-9");
    const wire = (e, extra) => Object.assign({ id: e.id, kind: e.kind, payload: e.payload, author_id: e.author_id,
      device_id: e.device_id, recorded_at: e.recorded_at, base_rev: e.base_rev, form_version: e.form_version }, extra);
    const byId = Object.fromEntries(req.body.entries.map((e) => [e.id, e]));
    assert.deepEqual(Object.keys(req.body).sort(), ["device_id", "entries", "protocol_version"]);
    assert.equal(req.body.protocol_version, 1);
    assert.equal(req.body.device_id, "phone-9");
    assert.deepEqual(byId[full.id], wire(full));
    assert.deepEqual(byId[bare.id], wire(bare, { base_rev: null, form_version: 1 }),
      "no local fields (label, status, saved_at…); defaults for base_rev and form_version");
  });

  test("only the signed-in user's entries are sent; another author's wait for them", async () => {
    const { Outbox, server } = loadOutbox();
    const mine = [entry(), entry()];
    const theirs = [entry({ author_id: OTHER_USER }), entry({ author_id: OTHER_USER })];
    for (const e of [theirs[0], mine[0], theirs[1], mine[1]]) { await Outbox.enqueue(e); }
    await Outbox.flush();
    assert.deepEqual(server.sentIds().sort(), mine.map((e) => e.id).sort());
    assert.ok(server.syncRequests.every((r) => r.body.entries.every((e) => e.author_id === USER)));
    const st = await statuses(Outbox);
    assert.equal(st[theirs[0].id], "pending");
    assert.equal(st[theirs[1].id], "pending");
    let s = await Outbox.summary(USER);
    assert.equal(s.pending, 0);
    assert.equal(s.pendingOthers, 2);

    // The other user signs in on this phone: their entries go, under their session.
    server.session = { user_id: OTHER_USER, csrf_token: "token-8" };
    await Outbox.flush();
    assert.deepEqual(server.syncRequests[1].body.entries.map((e) => e.id).sort(), theirs.map((e) => e.id).sort());
    assert.equal(server.syncRequests[1].headers["X-CSRFToken"], "token-8");
    s = await Outbox.summary(OTHER_USER);
    assert.equal(s.pending, 0);
    assert.equal(s.pendingOthers, 0);
  });

  test("only another user's entries waiting: no request, state idle", async () => {
    const { Outbox, server } = loadOutbox();
    const e = entry({ author_id: OTHER_USER });
    await Outbox.enqueue(e);
    await Outbox.flush();
    assert.equal(server.syncRequests.length, 0);
    assert.equal((await Outbox.get(e.id)).status, "pending");
    assert.equal((await Outbox.getMeta("state")).phase, "idle");
  });

  test("oldest first (by when it was saved, not by id)", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const ids = ["f0000000-0000-4000-8000-000000000000", "a0000000-0000-4000-8000-000000000000",
      "d0000000-0000-4000-8000-000000000000", "10000000-0000-4000-8000-000000000000"];
    for (const id of ids) { await Outbox.enqueue(entry({ id })); clock.advance(1000); }
    await Outbox.flush();
    assert.deepEqual(server.sentIds(), ids);
  });

  test("250 entries go in batches of at most 100 (3 requests), oldest first across batches", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const ids = await enqueueMany(Outbox, clock, 250);
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100, 100, 50]);
    assert.deepEqual(server.sentIds(), ids);
    assert.equal(server.sessionRequests.length, 1, "one session check per flush");
    const s = await Outbox.summary(USER);
    assert.equal(s.pending, 0);
    assert.equal(s.entries.filter((e) => e.status === "sent").length, 250);
  });

  test("where the browser compresses: gzip bodies of at most 500 entries, oldest first, each entry once", async () => {
    const { Outbox, server, clock } = loadOutbox({ compression: true });
    const ids = await enqueueMany(Outbox, clock, 1200);
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [500, 500, 200]);
    assert.deepEqual(server.sentIds(), ids);
    for (const req of server.syncRequests) {
      assert.equal(req.headers["Content-Encoding"], "gzip");
      assert.equal(req.headers["Content-Type"], "application/json");
      assert.deepEqual(Object.keys(req.body).sort(), ["device_id", "entries", "protocol_version"]);
    }
    const s = await Outbox.summary(USER);
    assert.equal(s.pending, 0);
    assert.equal(s.entries.filter((e) => e.status === "sent").length, 1200);
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
  });

  test("a compressed push too large for the server (413) is halved and sent again, still compressed", async () => {
    const { Outbox, server, clock } = loadOutbox({ compression: true });
    const ids = await enqueueMany(Outbox, clock, 500);
    server.maxEntries = 300;
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [500, 250, 250]);
    assert.ok(server.syncRequests.every((r) => r.headers["Content-Encoding"] === "gzip"));
    assert.deepEqual(server.syncRequests.slice(1).flatMap((r) => r.body.entries.map((e) => e.id)), ids);
    assert.equal((await Outbox.summary(USER)).pending, 0);
  });

  test("a compressed push refused for its encoding (415) goes again as plain JSON, 100 a request, and so does the next", async () => {
    const { Outbox, server, clock } = loadOutbox({ compression: true });
    server.handler = (req, s) => (req.headers["Content-Encoding"] === "gzip"
      ? { status: 415, body: { message: "Content-Encoding 'gzip' is not accepted." } } : s.process(req, s));
    const ids = await enqueueMany(Outbox, clock, 250);
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [250, 100, 100, 50]);
    assert.deepEqual(server.syncRequests.map((r) => r.headers["Content-Encoding"] || "none"),
      ["gzip", "none", "none", "none"]);
    assert.deepEqual(server.syncRequests.slice(1).flatMap((r) => r.body.entries.map((e) => e.id)), ids);
    const s = await Outbox.summary(USER);
    assert.equal(s.pending, 0);
    assert.equal(s.attention, 0, "nothing set aside for the encoding");
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
    await Outbox.enqueue(entry());
    await Outbox.flush();
    assert.equal(server.syncRequests.at(-1).headers["Content-Encoding"], undefined, "no more compression");
  });

  test("an entry left 'sending' (tab closed mid-send) is sent again; the server answers duplicate", async () => {
    const { Outbox, server } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    await Outbox.update(e.id, { status: "sending" });       // the tab closed after sending, before the answer,
    server.process({ body: { entries: [plain(e)] } });       // and the server had saved it
    await Outbox.flush();
    assert.deepEqual(server.sentIds(), [e.id]);
    assert.deepEqual(server.answered.map((a) => a.status), ["duplicate"]);
    assert.equal(server.appliedCount.get(e.id), 1);
    const row = await Outbox.get(e.id);
    assert.equal(row.status, "sent");
    assert.deepEqual(plain(row.record), { type: "assessment", id: 1 });
  });
});

describe("pruning", { timeout: 10000 }, () => {
  test("sent and replaced entries older than 7 days are deleted; the rest is kept", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const t0 = clock.ms;
    const sentOld = entry();
    const toReject = entry();
    const conflicting = entry();
    const theirs = entry({ author_id: OTHER_USER });
    for (const e of [sentOld, toReject, conflicting, theirs]) { await Outbox.enqueue(e); }
    server.verdicts.set(toReject.id, { status: "rejected", reason: "No." });
    server.verdicts.set(conflicting.id, { status: "conflict", reason: "Other content." });
    await Outbox.flush();
    // Correct the rejected entry: the old one becomes replaced, the correction is sent.
    const correction = await Outbox.enqueue(Object.assign({}, toReject, { payload: { patient: "12", score: "1" } }));
    await Outbox.flush();
    // One more that will stay rejected (never pruned), and one sent a day later.
    const stillRejected = entry();
    server.verdicts.set(stillRejected.id, { status: "rejected", reason: "No." });
    await Outbox.enqueue(stillRejected);
    await Outbox.flush();
    clock.advance(DAY);
    const sentRecent = entry();
    await Outbox.enqueue(sentRecent);
    await Outbox.flush();

    let st = await statuses(Outbox);
    assert.deepEqual(st, {
      [sentOld.id]: "sent", [toReject.id]: "replaced", [conflicting.id]: "conflict", [theirs.id]: "pending",
      [correction.id]: "sent", [stillRejected.id]: "rejected", [sentRecent.id]: "sent" });

    clock.ms = t0 + 7 * DAY - 1000;   // not yet 7 days
    await Outbox.flush();
    assert.equal(Object.keys(await statuses(Outbox)).length, 7);

    clock.ms = t0 + 7 * DAY + 1000;   // just over 7 days since the first sends
    await Outbox.flush();
    st = await statuses(Outbox);
    assert.deepEqual(st, {
      [conflicting.id]: "conflict", [theirs.id]: "pending", [stillRejected.id]: "rejected",
      [sentRecent.id]: "sent" });

    clock.ms = t0 + 60 * DAY;
    await Outbox.flush();
    st = await statuses(Outbox);
    assert.deepEqual(st, { [conflicting.id]: "conflict", [theirs.id]: "pending", [stillRejected.id]: "rejected" },
      "waiting and needs-attention entries are never pruned, however old");
  });

  test("pruning also runs when the phone is offline", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    await Outbox.flush();
    const waiting = entry();
    await Outbox.enqueue(waiting);
    clock.advance(8 * DAY);
    server.offline = true;
    await Outbox.flush();
    assert.deepEqual(await statuses(Outbox), { [waiting.id]: "pending" });
  });
});

describe("flushes racing", { timeout: 10000 }, () => {
  test("flush() called three times at once: one request at a time, each entry sent once", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const ids = [];
    for (let i = 0; i < 5; i++) { const e = entry(); ids.push(e.id); await Outbox.enqueue(e); clock.advance(1); }
    const release = server.hold();
    const p1 = Outbox.flush();
    const p2 = Outbox.flush();
    const p3 = Outbox.flush();
    assert.equal(p2, p3, "calls made while one runs share one follow-up flush");
    await server.waitForSync(1);
    release();
    await Promise.all([p1, p2, p3]);
    assert.equal(server.maxInFlight, 1);
    assert.deepEqual(server.sentIds(), ids);
    assert.equal(server.sessionRequests.length, 1, "the follow-up found nothing left to send");
    assert.ok(Object.values(await statuses(Outbox)).every((s) => s === "sent"));
  });

  test("an entry saved while a flush is in flight is sent by the follow-up flush", async () => {
    const { Outbox, server } = loadOutbox();
    const first = entry();
    await Outbox.enqueue(first);
    const release = server.hold();
    const p1 = Outbox.flush();
    await server.waitForSync(1);
    const second = entry();
    await Outbox.enqueue(second);
    const p2 = Outbox.flush();   // what the page does after a save; no further trigger
    release();
    await p2;
    assert.deepEqual(server.syncRequests.map((r) => r.body.entries.map((e) => e.id)), [[first.id], [second.id]]);
    assert.equal(server.maxInFlight, 1);
    const st = await statuses(Outbox);
    assert.equal(st[first.id], "sent");
    assert.equal(st[second.id], "sent");
    await p1;
  });

  test("a flush that fails (the lock request is refused) records an error, and the next flush runs", async () => {
    const locks = fakeLocks();
    let refuse = true;
    const flaky = {
      request(name, fn) {
        if (refuse) { refuse = false; return Promise.reject(new Error("The document is not fully active.")); }
        return locks.request(name, fn);
      },
    };
    const { Outbox, server } = loadOutbox({ locks: flaky });
    const e = entry();
    await Outbox.enqueue(e);
    await Outbox.flush();
    assert.equal(server.requests.length, 0);
    assert.equal((await Outbox.get(e.id)).status, "pending");
    const state = await Outbox.getMeta("state");
    assert.equal(state.phase, "error");
    assert.equal(state.error, "The document is not fully active.");
    await Outbox.flush();
    assert.equal((await Outbox.get(e.id)).status, "sent");
  });

  async function twoTabs({ locks = null, n = 30 } = {}) {
    const idb = new IDBFactory();
    const server = fakeServer();
    const clock = makeClock();
    const a = loadOutbox({ idb, server, clock, locks });
    const b = loadOutbox({ idb, server, clock, locks });
    const ids = [];
    for (let i = 0; i < n; i++) {
      const e = entry();
      ids.push(e.id);
      await (i % 2 ? a : b).Outbox.enqueue(e);
      clock.advance(1);
    }
    return { idb, server, clock, a, b, ids };
  }

  test("two tabs without Web Locks flushing at once: every entry sent, each applied once", async () => {
    const { server, a, b, ids } = await twoTabs();
    const rejected = ids[4];
    server.verdicts.set(rejected, { status: "rejected", reason: "No." });
    const release = server.hold();
    const pa = a.Outbox.flush();
    const pb = b.Outbox.flush();
    await server.waitForSync(2);   // both tabs have a request out before either is answered
    release();
    await Promise.all([pa, pb]);

    assert.deepEqual(new Set(server.sentIds()), new Set(ids), "the server received every id");
    assert.equal(server.ledger.size, ids.length - 1);
    assert.ok([...server.appliedCount.values()].every((n) => n === 1), "idempotent: applied once each");
    const rows = await rowsById(a.Outbox);
    assert.deepEqual(Object.keys(rows).sort(), [...ids].sort(), "nothing lost");
    const acked = server.ackedIds();
    for (const id of ids) {
      if (id === rejected) {
        assert.equal(rows[id].status, "rejected");
      } else {
        assert.equal(rows[id].status, "sent", id);
      }
      if (rows[id].status === "sent") { assert.ok(acked.has(id), "sent only on an applied/duplicate answer"); }
    }
    assert.deepEqual(plain(await b.Outbox.all()).map((r) => r.status).sort(),
      plain(await a.Outbox.all()).map((r) => r.status).sort());
  });

  test("two tabs without Web Locks, the server failing for one tab: nothing marked sent unacknowledged", async () => {
    const { server, a, b, ids } = await twoTabs({ n: 12 });
    const release = server.hold();
    let first = true;
    server.handler = (req, s) => {
      if (first) { first = false; return new TypeError("Failed to fetch"); }
      return s.process(req);
    };
    const pa = a.Outbox.flush();
    const pb = b.Outbox.flush();
    await server.waitForSync(2);
    release();
    await Promise.all([pa, pb]);
    const rows = await rowsById(a.Outbox);
    const acked = server.ackedIds();
    assert.equal(Object.keys(rows).length, ids.length);
    for (const id of ids) {
      assert.ok(["sent", "pending"].includes(rows[id].status), rows[id].status);
      if (rows[id].status === "sent") { assert.ok(acked.has(id)); }
    }
    await a.Outbox.flush();
    assert.ok(Object.values(await statuses(a.Outbox)).every((s) => s === "sent"));
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
  });

  test("a slow tab whose send fails never undoes what another tab got acknowledged", async () => {
    const { server, a, b, ids } = await twoTabs({ n: 6 });
    let failSlowTab;
    server.script.push(() => new Promise((resolve) => { failSlowTab = resolve; }));
    const pa = a.Outbox.flush();
    await server.waitForSync(1);       // tab A's request is out, with no answer yet
    await b.Outbox.flush();            // tab B sends the same entries (claimed "sending"): applied
    assert.ok(Object.values(await statuses(a.Outbox)).every((s) => s === "sent"));
    failSlowTab(new TypeError("Failed to fetch"));   // then A's request fails
    await pa;
    const rows = await rowsById(a.Outbox);
    assert.deepEqual(Object.keys(rows).sort(), [...ids].sort());
    for (const id of ids) {
      assert.equal(rows[id].status, "sent", "a failed send puts back only what is still 'sending'");
      assert.equal(rows[id].last_error, null);
    }
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
  });

  test("two tabs with Web Locks: one flush at a time across tabs, each entry sent exactly once", async () => {
    const { server, a, b, ids } = await twoTabs({ locks: fakeLocks() });
    const pa = a.Outbox.flush();
    const pb = b.Outbox.flush();
    await Promise.all([pa, pb]);
    assert.equal(server.maxInFlight, 1);
    assert.deepEqual(server.sentIds(), ids, "each id once, oldest first");
    assert.ok(Object.values(await statuses(b.Outbox)).every((s) => s === "sent"));
  });
});
