// outbox-core.js: flush, and what it does with each answer of POST /api/sync (docs/sync.md, "Protocol").
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadOutbox, entry, plain, rowsById, statuses, USER } from "./harness.mjs";

async function withEntries(n, options = {}) {
  const loaded = loadOutbox(options);
  const entries = [];
  for (let i = 0; i < n; i++) {
    const e = entry();
    entries.push(e);
    await loaded.Outbox.enqueue(e);
    loaded.clock.advance(1000);
  }
  return Object.assign(loaded, { entries, ids: entries.map((e) => e.id) });
}

const countBy = (rows, key) => Object.values(rows).reduce((acc, r) => {
  acc[r[key]] = (acc[r[key]] || 0) + 1;
  return acc;
}, {});

describe("flush: one result per entry", { timeout: 10000 }, () => {
  test("applied and duplicate -> sent; conflict and rejected kept; a missing result stays pending", async () => {
    const { Outbox, server, clock, ids } = await withEntries(5);
    const [applied, duplicate, conflict, rejected, missing] = ids;
    server.verdicts.set(duplicate, { status: "duplicate", record: { type: "assessment", id: 90 } });
    server.verdicts.set(conflict, { status: "conflict", reason: "Edited from a stale revision.",
      record: { type: "assessment", id: 91 } });
    server.verdicts.set(rejected, { status: "rejected", reason: "Score is out of range.",
      errors: { score: ["Must be 0 to 4."] } });
    server.handler = (req, s) => {
      const answer = s.process(req);
      answer.body.results = answer.body.results.filter((r) => r.id !== missing);
      return answer;
    };
    await Outbox.flush();

    assert.deepEqual(server.batchSizes(), [5]);
    const rows = await rowsById(Outbox);
    assert.equal(rows[applied].status, "sent");
    assert.equal(rows[applied].sent_at, clock.iso());
    assert.deepEqual(rows[applied].record, { type: "assessment", id: 1 });
    assert.equal(rows[applied].reason, null);
    assert.equal(rows[applied].last_error, null);

    assert.equal(rows[duplicate].status, "sent");
    assert.equal(rows[duplicate].sent_at, clock.iso());
    assert.deepEqual(rows[duplicate].record, { type: "assessment", id: 90 });

    assert.equal(rows[conflict].status, "conflict");
    assert.equal(rows[conflict].reason, "Edited from a stale revision.");
    assert.deepEqual(rows[conflict].record, { type: "assessment", id: 91 });
    assert.equal(rows[conflict].sent_at, undefined);

    assert.equal(rows[rejected].status, "rejected");
    assert.equal(rows[rejected].reason, "Score is out of range.");
    assert.deepEqual(rows[rejected].errors, { score: ["Must be 0 to 4."] });
    assert.equal(rows[rejected].sent_at, undefined);

    assert.equal(rows[missing].status, "pending");
    assert.equal(rows[missing].last_error, "No answer for this entry; will retry.");

    const s = await Outbox.summary(USER);
    assert.equal(s.pending, 1);
    assert.equal(s.attention, 2);
    assert.equal(s.lastSync, clock.iso());
    assert.deepEqual(plain(s.state), { at: clock.iso(), phase: "idle", user_id: USER });

    // The next flush sends only the entry that had no answer; what needs attention is never re-sent.
    server.handler = null;
    await Outbox.flush();
    assert.deepEqual(server.syncRequests[1].body.entries.map((e) => e.id), [missing]);
    assert.equal((await Outbox.get(missing)).status, "sent");
    assert.equal((await Outbox.get(conflict)).status, "conflict");
    assert.equal((await Outbox.get(rejected)).status, "rejected");
  });

  test("a rejected entry never holds back the rest of its batch", async () => {
    const { Outbox, server, ids } = await withEntries(4);
    server.verdicts.set(ids[0], { status: "rejected", reason: "No such patient." });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [4]);
    assert.deepEqual(Object.values(await statuses(Outbox)).sort(), ["rejected", "sent", "sent", "sent"]);
  });

  test("with nothing waiting, flush sends nothing and says idle", async () => {
    const { Outbox, server } = loadOutbox();
    await Outbox.flush();
    assert.equal(server.requests.length, 0);
    assert.equal((await Outbox.getMeta("state")).phase, "idle");
  });
});

describe("flush: whole-request answers", { timeout: 10000 }, () => {
  test("400 on a batch: halved until the malformed entry is alone; only it is rejected", async () => {
    const { Outbox, server, ids } = await withEntries(3);
    server.verdicts.set(ids[1], { http: 400, message: "Unknown entry kind: assessments.recrod",
      errors: { kind: ["Unknown."] } });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [3, 2, 1, 1, 1]);
    assert.deepEqual(server.syncRequests.slice(2).map((r) => r.body.entries[0].id), ids);
    const rows = await rowsById(Outbox);
    assert.equal(rows[ids[0]].status, "sent");
    assert.equal(rows[ids[2]].status, "sent");
    assert.equal(rows[ids[1]].status, "rejected");
    assert.equal(rows[ids[1]].reason, "Unknown entry kind: assessments.recrod");
    assert.deepEqual(rows[ids[1]].errors, { kind: ["Unknown."] });
  });

  test("400 on a push of 500 with one malformed entry: found in a few requests, not 500", async () => {
    const { Outbox, server, ids } = await withEntries(500, { compression: true });
    server.verdicts.set(ids[333], { http: 400, message: "Unknown entry kind." });
    await Outbox.flush();
    assert.ok(server.syncRequests.length <= 2 * Math.ceil(Math.log2(500)) + 2,
      `${server.syncRequests.length} requests`);
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(Object.values(rows), "status"), { sent: 499, rejected: 1 });
    assert.equal(rows[ids[333]].status, "rejected");
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
    const accepted = server.answered.filter((a) => a.status === "applied").map((a) => a.id);
    assert.deepEqual(accepted, ids.filter((_, n) => n !== 333), "each once, oldest first");
  });

  test("400 on a single entry: rejected with the server's message", async () => {
    const { Outbox, server, ids } = await withEntries(1);
    server.verdicts.set(ids[0], { http: 400, message: "Missing field: payload." });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [1]);
    const row = await Outbox.get(ids[0]);
    assert.equal(row.status, "rejected");
    assert.equal(row.reason, "Missing field: payload.");
  });

  test("400 on a single entry with no readable message: rejected with a reason of its own", async () => {
    const { Outbox, server, ids } = await withEntries(1);
    server.script.push({ status: 400, text: "Bad Request" });
    await Outbox.flush();
    const row = await Outbox.get(ids[0]);
    assert.equal(row.status, "rejected");
    assert.equal(row.reason, "The server refused this entry (400).");
    assert.equal(row.errors, null);
  });

  test("401: every entry back to pending, sign-in asked, nothing sent; after signing in it resumes", async () => {
    const { Outbox, server, ids } = await withEntries(150);
    server.script.push({ status: 401, body: { message: "Sign in." } });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100], "sending stops at the 401");
    let rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { pending: 150 });
    assert.equal(rows[ids[0]].last_error, "Sign in to send.");
    assert.equal(rows[ids[0]].attempts, 1);
    assert.equal((await Outbox.getMeta("state")).phase, "signin");
    assert.equal(server.ledger.size, 0);
    let s = await Outbox.summary(USER);
    assert.equal(s.pending, 150);
    assert.equal(s.lastSync, null);

    // Still signed out: the session says so, and nothing is sent.
    server.session = null;
    await Outbox.flush();
    assert.equal(server.syncRequests.length, 1);
    assert.equal((await Outbox.getMeta("state")).phase, "signin");
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { pending: 150 });

    // Signed in again: the next flush (a timer, the online event) sends everything, no user action.
    server.session = { user_id: USER, csrf_token: "a-new-token" };
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100, 100, 50]);
    assert.equal(server.syncRequests[1].headers["X-CSRFToken"], "a-new-token");
    rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { sent: 150 });
    s = await Outbox.summary(USER);
    assert.equal(s.state.phase, "idle");
    assert.equal(s.pending, 0);
  });

  test("403: back to pending with the server's message, and the flush stops", async () => {
    const { Outbox, server, ids } = await withEntries(150);
    server.script.push({ status: 403, body: { message: "These entries belong to another user." } });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100]);
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { pending: 150 });
    assert.equal(rows[ids[0]].last_error, "These entries belong to another user.");
    assert.equal(rows[ids[0]].attempts, 1);
    assert.equal(rows[ids[149]].attempts, 0, "the second batch was never sent");
  });

  test("413 on a batch: halved and re-sent until it fits; every entry sent once", async () => {
    const { Outbox, server, ids } = await withEntries(100);
    server.maxEntries = 30;
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100, 50, 25, 25, 50, 25, 25]);
    const accepted = server.syncRequests.filter((r) => r.body.entries.length <= 30)
      .flatMap((r) => r.body.entries.map((e) => e.id));
    assert.deepEqual(accepted, ids, "each entry once, oldest first");
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { sent: 100 });
    assert.ok([...server.appliedCount.values()].every((n) => n === 1));
  });

  test("413 on a single entry: rejected (too large to ever send)", async () => {
    const { Outbox, server, ids } = await withEntries(1);
    server.maxEntries = 0;
    await Outbox.flush();
    const row = await Outbox.get(ids[0]);
    assert.equal(row.status, "rejected");
    assert.equal(row.reason, "Request too large.");
  });

  test("500 on a batch: re-sent one at a time", async () => {
    const { Outbox, server, ids } = await withEntries(3);
    server.script.push({ status: 500, text: "Internal Server Error" });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [3, 1, 1, 1]);
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { sent: 3 });
    assert.ok(ids.every((id) => rows[id].server_failures === 0));
  });

  test("an entry the server fails on alone: counted, failed on the second such flush, then sorted last", async () => {
    const { Outbox, server, clock, ids } = await withEntries(3);
    const bad = ids[0];   // the oldest
    server.verdicts.set(bad, { http: 500 });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [3, 1, 1, 1]);
    let rows = await rowsById(Outbox);
    assert.equal(rows[ids[1]].status, "sent");
    assert.equal(rows[ids[2]].status, "sent");
    assert.equal(rows[bad].status, "pending");
    assert.equal(rows[bad].server_failures, 1);
    assert.equal(rows[bad].last_error, "The server had a problem (500); will retry.");
    assert.equal((await Outbox.summary(USER)).attention, 0);

    // Alone in a flush where the server saves nothing: not counted (it may be the server).
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [3, 1, 1, 1, 1]);
    assert.equal((await Outbox.get(bad)).server_failures, 1);

    // Saved later, the new entries go first; the failing one is behind them.
    const later = [entry(), entry()];
    for (const e of later) { clock.advance(1000); await Outbox.enqueue(e); }
    await Outbox.flush();
    const [batch, ...singles] = server.syncRequests.slice(5);
    assert.deepEqual(batch.body.entries.map((e) => e.id), [later[0].id, later[1].id, bad]);
    assert.deepEqual(singles.map((r) => r.body.entries[0].id), [later[0].id, later[1].id, bad]);
    rows = await rowsById(Outbox);
    assert.equal(rows[later[0].id].status, "sent");
    assert.equal(rows[later[1].id].status, "sent");
    assert.equal(rows[bad].status, "failed");
    assert.equal(rows[bad].server_failures, 2);
    assert.match(rows[bad].reason, /could not save this entry after 2 tries/);
    const s = await Outbox.summary(USER);
    assert.equal(s.attention, 1);
    assert.equal(s.pending, 0);

    // Failed entries wait for the user ("Try again"): the next flush does not send them.
    const before = server.syncRequests.length;
    await Outbox.flush();
    assert.equal(server.syncRequests.length, before);
  });

  for (const status of [502, 503, 504]) {
    test(`${status} (server or proxy unavailable): nothing counted, all pending, the flush stops at once`, async () => {
      const { Outbox, server } = await withEntries(150);
      server.handler = () => ({ status, text: "Unavailable" });
      await Outbox.flush();
      assert.deepEqual(server.batchSizes(), [100]);
      let rows = await rowsById(Outbox);
      assert.deepEqual(countBy(rows, "status"), { pending: 150 });
      assert.ok(Object.values(rows).every((r) => r.server_failures === 0));
      const state = await Outbox.getMeta("state");
      assert.equal(state.phase, "error");
      assert.equal(state.error, `Server ${status}`);

      await Outbox.flush();   // still down
      assert.equal(server.syncRequests.length, 2);
      rows = await rowsById(Outbox);
      assert.ok(Object.values(rows).every((r) => r.status === "pending" && r.server_failures === 0));
      assert.equal((await Outbox.summary(USER)).attention, 0);

      server.handler = null;  // back up
      await Outbox.flush();
      assert.deepEqual(countBy(await rowsById(Outbox), "status"), { sent: 150 });
    });
  }

  test("500 for every entry: each is tried alone, nothing is counted against any of them", async () => {
    const { Outbox, server } = await withEntries(4);
    server.handler = () => ({ status: 500, text: "Internal Server Error" });
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [4, 1, 1, 1, 1]);
    const rows = await rowsById(Outbox);
    assert.ok(Object.values(rows).every((r) => r.status === "pending" && r.server_failures === 0));
    server.handler = null;
    await Outbox.flush();
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { sent: 4 });
  });

  test("three entries the server always fails on, oldest first, do not hold back the rest", async () => {
    const { Outbox, server, ids } = await withEntries(5);
    for (const id of ids.slice(0, 3)) { server.verdicts.set(id, { http: 500 }); }
    await Outbox.flush();
    let rows = await rowsById(Outbox);
    assert.equal(rows[ids[3]].status, "sent");
    assert.equal(rows[ids[4]].status, "sent");
    assert.ok(ids.slice(0, 3).every((id) => rows[id].status === "pending" && rows[id].server_failures === 1));
  });

  test("network error on send: back to pending, state offline, the flush stops", async () => {
    const { Outbox, server, ids } = await withEntries(150);
    server.handler = () => new TypeError("Failed to fetch");
    await Outbox.flush();
    assert.deepEqual(server.batchSizes(), [100]);
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { pending: 150 });
    assert.equal(rows[ids[0]].last_error, "No network: Failed to fetch");
    assert.equal(rows[ids[0]].attempts, 1);
    assert.equal((await Outbox.getMeta("state")).phase, "offline");
  });

  test("no network at all: the session check fails, state offline, entries untouched", async () => {
    const { Outbox, server, ids } = await withEntries(2);
    const before = await rowsById(Outbox);
    server.offline = true;
    await Outbox.flush();
    assert.equal(server.syncRequests.length, 0);
    assert.deepEqual(await rowsById(Outbox), before);
    const state = await Outbox.getMeta("state");
    assert.equal(state.phase, "offline");
    assert.equal(state.error, "Failed to fetch");
    server.offline = false;
    await Outbox.flush();
    assert.equal((await Outbox.get(ids[1])).status, "sent");
  });

  test("timeout: a request with no answer is aborted after 15 s, entries back to pending", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { Outbox, server, ids } = await withEntries(2);
    server.script.push("hang");
    const flushing = Outbox.flush();
    const req = await server.waitForSync(1);
    assert.equal((await Outbox.get(ids[0])).status, "sending");
    t.mock.timers.tick(14999);
    assert.equal(req.signal.aborted, false);
    t.mock.timers.tick(1);
    await flushing;
    assert.equal(req.signal.aborted, true, "the request is really cancelled");
    assert.equal(req.aborted, true);
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { pending: 2 });
    assert.equal(rows[ids[0]].last_error, "No network: The server took too long to answer.");
    assert.equal((await Outbox.getMeta("state")).phase, "offline");

    await Outbox.flush();   // answered this time
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { sent: 2 });
  });
});

describe("flush: an answer that cannot be read", { timeout: 10000 }, () => {
  test("200 whose body is not JSON: entries back to pending, nothing lost", async () => {
    const { Outbox, server, ids } = await withEntries(3);
    server.script.push({ status: 200, text: "<!doctype html><p>Sign in</p>" });
    await Outbox.flush();
    const rows = await rowsById(Outbox);
    assert.deepEqual(countBy(rows, "status"), { pending: 3 });
    assert.match(rows[ids[0]].last_error, /^Could not read the server's answer/);
    assert.equal(rows[ids[0]].attempts, 1);
    assert.equal(await Outbox.getMeta("last_sync"), null);
    await Outbox.flush();
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { sent: 3 });
  });

  test("200 with JSON null or without results: nothing marked sent", async () => {
    for (const answer of [{ status: 200, text: "null" }, { status: 200, body: { protocol_version: 1 } }]) {
      const { Outbox, server } = await withEntries(2);
      server.script.push(answer);
      await Outbox.flush();
      assert.deepEqual(countBy(await rowsById(Outbox), "status"), { pending: 2 }, JSON.stringify(answer));
    }
  });

  test("a redirect (to the login page) counts as signed out", async () => {
    const { Outbox, server } = await withEntries(2);
    server.script.push({ status: 200, ok: true, redirected: true,
      json: () => Promise.reject(new SyntaxError("Unexpected token <")) });
    await Outbox.flush();
    assert.deepEqual(countBy(await rowsById(Outbox), "status"), { pending: 2 });
    assert.equal((await Outbox.getMeta("state")).phase, "signin");
  });
});
