// outbox-core.js: what stands in for what Safari (WebKit) lacks (docs/ios.md). No Background Sync: the page's
// own triggers send. Storage that may be cleared: persistence is asked for, and entries that waited too long
// on the phone are counted as at risk.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadOutbox, entry, plain, USER, OTHER_USER } from "./harness.mjs";

const HOUR = 3600000;

describe("entries at risk of eviction", { timeout: 10000 }, () => {
  test("the threshold lives in one place, well before Safari's 7 days", () => {
    const { Outbox } = loadOutbox();
    assert.equal(Outbox.AT_RISK_AFTER_HOURS, 24);
    assert.ok(Outbox.AT_RISK_AFTER_HOURS * HOUR < 7 * 24 * HOUR / 2);
  });

  test("only entries still only on the phone, of any user, once they have waited the threshold", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const ids = {};
    const save = async (names) => {
      for (const name of names) {
        const e = entry(name === "theirs" ? { author_id: OTHER_USER } : {});
        ids[name] = e.id;
        await Outbox.enqueue(e);
      }
    };
    await save(["sent", "rejected", "conflict", "failed", "replaced"]);
    server.verdicts.set(ids.rejected, { status: "rejected", reason: "No.", errors: { _form: ["x"] } });
    server.verdicts.set(ids.conflict, { status: "conflict", reason: "Other content." });
    await Outbox.flush();
    server.offline = true;  // saved with no network; another user's entry waits for them
    await save(["pending", "theirs"]);
    await Outbox.flush();
    await Outbox.update(ids.failed, { status: "failed" });
    await Outbox.update(ids.replaced, { status: "replaced" });

    clock.advance(Outbox.AT_RISK_AFTER_HOURS * HOUR - 1);
    assert.deepEqual(Outbox.atRisk(await Outbox.all()), []);
    assert.equal((await Outbox.summary(USER)).atRisk, 0);

    clock.advance(1);
    const risky = Outbox.atRisk(await Outbox.all()).map((e) => e.id).sort();
    // Not the sent entry (the server has it), nor the conflict (the server kept that version), nor the replaced.
    assert.deepEqual(risky, [ids.rejected, ids.failed, ids.pending, ids.theirs].sort());
    assert.equal((await Outbox.summary(USER)).atRisk, 4);  // another user's entry is at risk on this phone too
    assert.equal((await Outbox.summary(USER)).pending, 1);
  });

  test("sending clears the risk", async () => {
    const { Outbox, server, clock } = loadOutbox();
    const e = entry();
    await Outbox.enqueue(e);
    server.offline = true;
    clock.advance(30 * HOUR);
    await Outbox.flush();
    assert.equal((await Outbox.summary(USER)).atRisk, 1);
    server.offline = false;
    await Outbox.flush();
    assert.equal(plain(await Outbox.get(e.id)).status, "sent");
    assert.equal((await Outbox.summary(USER)).atRisk, 0);
  });
});

function fakeStorage({ persisted = false, grants = false, throws = false } = {}) {
  const calls = { persisted: 0, persist: 0 };
  return {
    calls,
    storage: {
      persisted() { calls.persisted += 1; return throws ? Promise.reject(new Error("denied")) : Promise.resolve(persisted); },
      persist() { calls.persist += 1; persisted = grants; return Promise.resolve(grants); },
    },
  };
}

describe("storage persistence", { timeout: 10000 }, () => {
  test("asked when not yet persisted, and the browser's answer is reported", async () => {
    const { Outbox } = loadOutbox();
    const refused = fakeStorage({ grants: false });
    assert.deepEqual(plain(await Outbox.storagePersistence(true, { storage: refused.storage })),
                     { supported: true, persisted: false, asked: true });
    assert.equal(refused.calls.persist, 1);
    const granted = fakeStorage({ grants: true });
    assert.deepEqual(plain(await Outbox.storagePersistence(true, { storage: granted.storage })),
                     { supported: true, persisted: true, asked: true });
  });

  test("not asked again once persisted, nor when only reading the state", async () => {
    const { Outbox } = loadOutbox();
    const kept = fakeStorage({ persisted: true });
    assert.deepEqual(plain(await Outbox.storagePersistence(true, { storage: kept.storage })),
                     { supported: true, persisted: true, asked: false });
    const reading = fakeStorage();
    assert.deepEqual(plain(await Outbox.storagePersistence(false, { storage: reading.storage })),
                     { supported: true, persisted: false, asked: false });
    assert.equal(kept.calls.persist + reading.calls.persist, 0);
  });

  test("a browser without the Storage API (older iOS) or one that fails: reported, never thrown", async () => {
    const { Outbox } = loadOutbox();
    assert.deepEqual(plain(await Outbox.storagePersistence(true, {})),
                     { supported: false, persisted: false, asked: false });
    const failing = fakeStorage({ throws: true });
    assert.deepEqual(plain(await Outbox.storagePersistence(true, { storage: failing.storage })),
                     { supported: true, persisted: false, asked: false });
  });
});

// A window and a document as the page has them: events, a timer and navigator.onLine.
function fakePage() {
  const win = new EventTarget();
  const doc = new EventTarget();
  win.navigator = { onLine: true };
  doc.visibilityState = "visible";
  win.setInterval = (...args) => globalThis.setInterval(...args);
  win.clearInterval = (...args) => globalThis.clearInterval(...args);
  return { win, doc };
}

describe("send triggers (no Background Sync)", { timeout: 10000 }, () => {
  test("at once, when the network returns, when shown again, on the timer", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const { Outbox } = loadOutbox();
    const { win, doc } = fakePage();
    const sent = [];
    const stop = Outbox.sendTriggers(win, doc, (why) => sent.push(why));
    assert.deepEqual(sent, ["load"]);

    win.dispatchEvent(new Event("online"));
    doc.visibilityState = "hidden";
    doc.dispatchEvent(new Event("visibilitychange"));   // hidden: nothing to do
    doc.visibilityState = "visible";
    doc.dispatchEvent(new Event("visibilitychange"));
    assert.deepEqual(sent, ["load", "online", "visible"]);

    t.mock.timers.tick(Outbox.RETRY_EVERY_MS - 1);
    assert.equal(sent.length, 3);
    t.mock.timers.tick(1);
    assert.deepEqual(sent.slice(3), ["timer"]);
    win.navigator.onLine = false;                        // the browser knows it is offline: no attempt
    t.mock.timers.tick(Outbox.RETRY_EVERY_MS);
    assert.equal(sent.length, 4);
    win.navigator.onLine = true;                         // Wi-Fi up but the server unreachable: keep trying
    t.mock.timers.tick(Outbox.RETRY_EVERY_MS);
    assert.deepEqual(sent.slice(4), ["timer"]);

    stop();
    win.dispatchEvent(new Event("online"));
    t.mock.timers.tick(10 * Outbox.RETRY_EVERY_MS);
    assert.equal(sent.length, 5);
  });

  test("the timer sends what waited while the server was unreachable, once it answers", async (t) => {
    const { Outbox, server } = loadOutbox();
    const e = entry();
    server.offline = true;
    await Outbox.enqueue(e);
    await Outbox.flush();
    assert.equal(plain(await Outbox.get(e.id)).status, "pending");
    server.offline = false;
    const { win, doc } = fakePage();
    const flushes = [];
    t.mock.timers.enable({ apis: ["setInterval"] });
    const stop = Outbox.sendTriggers(win, doc, (why) => { if (why === "timer") { flushes.push(Outbox.flush()); } });
    t.mock.timers.tick(Outbox.RETRY_EVERY_MS);
    stop();
    t.mock.timers.reset();
    await Promise.all(flushes);
    assert.equal(plain(await Outbox.get(e.id)).status, "sent");
    assert.deepEqual([...server.appliedCount.values()], [1]);
  });
});

// A page Safari keeps in its back/forward cache is frozen with its transactions unfinished, which would block
// every other page's writes (the next page's Save hangs): the page abandons them when it goes into the cache.
describe("back/forward cache", { timeout: 10000 }, () => {
  function page() {
    const win = new EventTarget();
    win.reloads = 0;
    win.location = { reload() { win.reloads += 1; } };
    return win;
  }
  const hide = (win, persisted) => win.dispatchEvent(Object.assign(new Event("pagehide"), { persisted }));
  const show = (win, persisted) => win.dispatchEvent(Object.assign(new Event("pageshow"), { persisted }));
  const settled = (p) => Promise.race([p.then(() => "resolved", () => "rejected"),
                                      new Promise((r) => setTimeout(() => r("pending"), 50))]);

  test("going into the cache abandons unfinished writes, starts none, and another page writes at once",
       async () => {
    const { Outbox, idb } = loadOutbox();
    const win = page();
    Outbox.watchPageCache(win);
    await Outbox.enqueue(entry());              // the database is open
    const unfinished = Outbox.enqueue(entry());
    await null;
    await null;                                  // its transaction has started, not committed
    hide(win, true);
    const later = Outbox.all();
    assert.equal(await settled(unfinished), "pending");  // never said to be saved
    assert.equal(await settled(later), "pending");
    // Another page of the same phone (its own connection to the same database) reads and writes at once.
    const other = loadOutbox({ idb }).Outbox;
    const e = entry();
    assert.equal(await settled(other.enqueue(e)), "resolved");
    assert.equal((await other.all()).length, 2);          // the abandoned save left nothing half done
    assert.equal(win.reloads, 0);
  });

  test("shown again from the cache: loaded afresh; a page unloaded for good is left alone", async () => {
    const { Outbox } = loadOutbox();
    const win = page();
    Outbox.watchPageCache(win);
    hide(win, false);
    show(win, false);
    await Outbox.enqueue(entry());              // still working
    assert.equal(win.reloads, 0);
    hide(win, true);
    show(win, true);
    assert.equal(win.reloads, 1);
  });
});
