// outbox-core.js: the IndexedDB schema. Opening the database again, by a new page or a new release, never
// loses what is on the phone.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadOutbox, entry, plain, rowsById, openRaw, rawGetAll, rawPut, IDBFactory, USER, OTHER_USER }
  from "./harness.mjs";

async function storeSomeOfEverything(Outbox, server) {
  const ids = {};
  for (const name of ["sent", "rejected", "conflict", "pending", "theirs", "failed"]) {
    const e = entry(name === "theirs" ? { author_id: OTHER_USER } : {});
    ids[name] = e.id;
    await Outbox.enqueue(e);
  }
  server.verdicts.set(ids.rejected, { status: "rejected", reason: "No.", errors: { score: ["x"] } });
  server.verdicts.set(ids.conflict, { status: "conflict", reason: "Other content." });
  server.verdicts.set(ids.pending, { http: 500 });   // fails alone: stays pending
  await Outbox.flush();
  await Outbox.update(ids.failed, { status: "failed", server_failures: 2, reason: "Server error." });
  server.verdicts.clear();
  return ids;
}

describe("schema", { timeout: 10000 }, () => {
  test("version 1: an entries store keyed by id with status and author indexes, and a meta store", async () => {
    const { Outbox, idb } = loadOutbox();
    await Outbox.enqueue(entry());
    const db = await openRaw(idb, 1);
    try {
      assert.equal(db.version, 1);
      assert.deepEqual([...db.objectStoreNames].sort(), ["entries", "meta"]);
      const t = db.transaction(["entries", "meta"], "readonly");
      const entries = t.objectStore("entries");
      assert.equal(entries.keyPath, "id");
      assert.deepEqual([...entries.indexNames].sort(), ["author_id", "status"]);
      assert.equal(entries.index("status").keyPath, "status");
      assert.equal(entries.index("author_id").keyPath, "author_id");
      assert.equal(t.objectStore("meta").keyPath, "key");
    } finally {
      db.close();
    }
  });

  test("opening the database again (a new page, the worker, a new release) keeps every entry and the meta", async () => {
    const idb = new IDBFactory();
    const first = loadOutbox({ idb });
    const ids = await storeSomeOfEverything(first.Outbox, first.server);
    const rows = await rowsById(first.Outbox);
    assert.equal(Object.keys(rows).length, 6);
    assert.deepEqual(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, rows[id].status])), {
      sent: "sent", rejected: "rejected", conflict: "conflict", pending: "pending", theirs: "pending",
      failed: "failed" });
    const meta = { state: plain(await first.Outbox.getMeta("state")),
      last_sync: await first.Outbox.getMeta("last_sync") };
    assert.ok(meta.last_sync);

    const second = loadOutbox({ idb, clock: first.clock });
    assert.deepEqual(await rowsById(second.Outbox), rows);
    assert.deepEqual(plain(await second.Outbox.getMeta("state")), meta.state);
    assert.equal(await second.Outbox.getMeta("last_sync"), meta.last_sync);
    const s = await second.Outbox.summary(USER);
    assert.equal(s.pending, 1);
    assert.equal(s.pendingOthers, 1);
    assert.equal(s.attention, 3);

    // And it goes on working: the waiting entry is sent from the new context.
    await second.Outbox.flush();
    assert.equal((await second.Outbox.get(ids.pending)).status, "sent");
    assert.equal((await second.Outbox.get(ids.theirs)).status, "pending");
  });

  test("a version-1 database made by an earlier release is opened as it is, never cleared", async () => {
    const idb = new IDBFactory();
    const db = await openRaw(idb, 1, (raw) => {
      const entries = raw.createObjectStore("entries", { keyPath: "id" });
      entries.createIndex("status", "status");
      entries.createIndex("author_id", "author_id");
      raw.createObjectStore("meta", { keyPath: "key" });
    });
    // Rows as an older outbox wrote them: no server_failures, an extra field the current code does not know.
    const old = [
      Object.assign(entry(), { status: "pending", saved_at: "2026-03-01T09:00:00.000Z", attempts: 3,
        last_error: "No network: Failed to fetch", reason: null, errors: null, legacy_field: "kept" }),
      Object.assign(entry(), { status: "rejected", saved_at: "2026-03-01T09:01:00.000Z", attempts: 1,
        reason: "Score is out of range.", errors: { score: ["Too high."] } }),
      Object.assign(entry(), { status: "sent", saved_at: "2026-03-02T07:00:00.000Z",
        sent_at: "2026-03-02T07:00:01.000Z", record: { type: "assessment", id: 3 } }),
    ];
    await rawPut(db, "entries", old);
    await rawPut(db, "meta", [{ key: "last_sync", value: "2026-03-02T07:00:01.000Z" }]);
    db.close();

    const { Outbox, server } = loadOutbox({ idb });
    const rows = await rowsById(Outbox);
    assert.deepEqual(rows, Object.fromEntries(old.map((r) => [r.id, plain(r)])));
    assert.equal(await Outbox.getMeta("last_sync"), "2026-03-02T07:00:01.000Z");

    await Outbox.flush();
    assert.deepEqual(server.sentIds(), [old[0].id]);
    const after = await rowsById(Outbox);
    assert.equal(after[old[0].id].status, "sent");
    assert.equal(after[old[0].id].legacy_field, "kept");
    assert.equal(after[old[1].id].status, "rejected");
    assert.equal(after[old[2].id].status, "sent");
  });

  test("a later release's upgrade is not blocked by an open outbox, and finds the data intact", async () => {
    const { Outbox, idb, connections } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    await Outbox.setMeta("state", { phase: "idle" });
    // Another context (the new service worker) opens version 2: the outbox closes its connection.
    let oldVersion = null;
    let blocked = false;
    const v2 = await openRaw(idb, 2, (raw, event) => {
      oldVersion = event.oldVersion;
      raw.createObjectStore("drafts", { keyPath: "id" });
    }, () => {
      blocked = true;
      connections.forEach((c) => c.close());   // unblock it, so the test fails instead of hanging
    });
    try {
      assert.equal(blocked, false, "the open outbox blocked the upgrade");
      assert.equal(oldVersion, 1);
      const rows = await rawGetAll(v2, "entries");
      assert.deepEqual(rows.map((r) => [r.id, r.status, r.payload]), [[e.id, "pending", e.payload]]);
      assert.deepEqual(await rawGetAll(v2, "meta"), [{ key: "state", value: { phase: "idle" } }]);
    } finally {
      v2.close();
    }
  });
});
