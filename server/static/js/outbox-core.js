/* The outbox: entries made on this phone, kept in IndexedDB until the server has acknowledged each one.
 *
 * Runs in the page and in the service worker (importScripts), so it touches no DOM. It is the only file that
 * knows the IndexedDB schema. Rules (docs/sync.md):
 *  - an entry is written with strict durability before the app says "Saved on this phone";
 *  - it leaves the "pending" state only on its own server result: applied/duplicate -> sent,
 *    rejected/conflict -> needs attention (kept, shown, never blocking the rest);
 *  - nothing is deleted except sent entries older than SENT_RETENTION_DAYS; schema upgrades never drop data;
 *  - the current session is used for sending (never stored credentials); on 401 sending pauses;
 *  - entries by another user wait for that user; one flush at a time (Web Locks across tabs and the worker).
 */
(function (global) {
  "use strict";

  var DB_NAME = "itb-outbox";
  var DB_VERSION = 1;
  var BATCH_SIZE = 100;
  var SENT_RETENTION_DAYS = 7;
  var REQUEST_TIMEOUT_MS = 15000;
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("itb-outbox") : null;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function (event) {
        var db = req.result;
        // Forward-only migrations: add stores and indexes, never delete or clear them.
        if (event.oldVersion < 1) {
          var entries = db.createObjectStore("entries", { keyPath: "id" });
          entries.createIndex("status", "status");
          entries.createIndex("author_id", "author_id");
          db.createObjectStore("meta", { keyPath: "key" });
        }
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { reject(req.error); };
      req.onblocked = function () { reject(new Error("The outbox is being upgraded in another tab.")); };
    });
  }

  var dbPromise = null;
  function getDb() {
    if (!dbPromise) {
      dbPromise = openDb().catch(function (err) { dbPromise = null; throw err; });
    }
    return dbPromise;
  }

  // Run `fn(transaction)` and resolve when the transaction has COMMITTED (strict durability for writes).
  // `fn` returns an IDBRequest (its result is resolved), a function (called after commit), or a value.
  function run(stores, mode, fn) {
    return getDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = mode === "readwrite" ? db.transaction(stores, mode, { durability: "strict" })
                                     : db.transaction(stores, mode);
        var out;
        try { out = fn(t); } catch (err) { try { t.abort(); } catch (e) { /* already done */ } reject(err); return; }
        t.oncomplete = function () {
          if (out && typeof IDBRequest !== "undefined" && out instanceof IDBRequest) { resolve(out.result); }
          else if (typeof out === "function") { resolve(out()); }
          else { resolve(out); }
        };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error("The phone's storage refused the write.")); };
      });
    });
  }

  function put(entry) {
    return run(["entries"], "readwrite", function (t) { t.objectStore("entries").put(entry); return entry; });
  }
  function get(id) {
    return run(["entries"], "readonly", function (t) { return t.objectStore("entries").get(id); });
  }
  function all() {
    return run(["entries"], "readonly", function (t) { return t.objectStore("entries").getAll(); });
  }
  function remove(id) {
    return run(["entries"], "readwrite", function (t) { t.objectStore("entries").delete(id); });
  }
  function update(id, patch) {
    return run(["entries"], "readwrite", function (t) {
      var store = t.objectStore("entries");
      var updated = null;
      var r = store.get(id);
      r.onsuccess = function () {
        if (r.result) {
          updated = Object.assign({}, r.result, typeof patch === "function" ? patch(r.result) : patch);
          store.put(updated);
        }
      };
      return function () { return updated; };
    });
  }
  function getMeta(key) {
    return run(["meta"], "readonly", function (t) { return t.objectStore("meta").get(key); })
      .then(function (row) { return row ? row.value : null; });
  }
  function setMeta(key, value) {
    return run(["meta"], "readwrite", function (t) { t.objectStore("meta").put({ key: key, value: value }); });
  }

  function notify(what) {
    var msg = { type: "OUTBOX_CHANGED", what: what || "" };
    if (channel) { channel.postMessage(msg); }
    if (typeof document !== "undefined") {
      document.dispatchEvent(new CustomEvent("outbox:changed", { detail: msg }));
    }
  }

  function newId() {
    if (self.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  // Save an entry on this phone. Resolves (with the row as stored) once IndexedDB has committed it.
  // Saving the same form again while its entry is still waiting (or was rejected) replaces that entry:
  // the server has not got it. Once it is being sent, was sent or conflicted, the new content gets a new
  // id, so it can never be mistaken for (or overwrite) what the server already has.
  function enqueue(entry) {
    var now = new Date().toISOString();
    return run(["entries"], "readwrite", function (t) {
      var store = t.objectStore("entries");
      var row = Object.assign({ attempts: 0, last_error: null, reason: null, errors: null }, entry,
                              { status: "pending", saved_at: now });
      var r = store.get(entry.id);
      r.onsuccess = function () {
        var existing = r.result;
        if (existing && existing.status !== "pending" && existing.status !== "rejected") {
          row.id = newId();
          row.replaces_local = existing.id;
        }
        store.put(row);
      };
      return function () { return row; };
    }).then(function (row) { notify("saved"); return row; });
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("The server took too long to answer.")); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); },
                   function (e) { clearTimeout(timer); reject(e); });
    });
  }

  // GET /api/session: {user_id, csrf_token} when signed in, null on 401; throws when there is no network.
  function fetchSession() {
    return withTimeout(fetch("/api/session", { credentials: "same-origin", cache: "no-store",
                                               headers: { "Accept": "application/json" } }), REQUEST_TIMEOUT_MS)
      .then(function (res) {
        if (res.status === 401) { return null; }
        if (!res.ok || res.redirected) { throw new Error("The server answered " + res.status + "."); }
        return res.json();
      });
  }

  function wireEntry(e) {
    return { id: e.id, kind: e.kind, payload: e.payload, author_id: e.author_id, device_id: e.device_id,
             recorded_at: e.recorded_at, base_rev: e.base_rev === undefined ? null : e.base_rev,
             form_version: e.form_version || 1 };
  }

  function setState(state) {
    return setMeta("state", Object.assign({ at: new Date().toISOString() }, state))
      .then(function () { notify("state"); });
  }

  function markAll(entries, patch) {
    return Promise.all(entries.map(function (e) { return update(e.id, patch); }));
  }

  function backToPending(entries, message) {
    return markAll(entries, function (row) {
      return row.status === "sending" ? { status: "pending", last_error: message, attempts: (row.attempts || 0) + 1 }
                                      : {};
    });
  }

  // Send one batch. Resolves "ok" to go on, or "stop" (no network, signed out, server trouble).
  function sendBatch(candidates, session) {
    var batch, deviceId;
    // Claim each entry in its own transaction, and send the content as stored at that moment: an entry
    // saved again meanwhile was either claimed with its new content or (if already claimed) got a new id.
    return Promise.all(candidates.map(function (e) {
      return update(e.id, function (row) {
        return (row.status === "pending" || row.status === "sending") ? { status: "sending" } : {};
      });
    })).then(function (rows) {
      batch = rows.filter(function (row) { return row && row.status === "sending"; });
      if (!batch.length) { return null; }
      deviceId = batch[0].device_id;
      var body = JSON.stringify({ protocol_version: 1, device_id: deviceId, entries: batch.map(wireEntry) });
      return withTimeout(fetch("/api/sync", {
          method: "POST", credentials: "same-origin", cache: "no-store", body: body,
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRFToken": session.csrf_token, "X-Device-Id": deviceId } }), REQUEST_TIMEOUT_MS);
    }).then(function (res) {
        if (res === null) { return "ok"; }
        if (res.status === 401) {
          return backToPending(batch, "Sign in to send.").then(function () {
            return setState({ phase: "signin" });
          }).then(function () { return "stop"; });
        }
        if (res.status === 413 && batch.length > 1) {
          var half = Math.ceil(batch.length / 2);
          return backToPending(batch, null).then(function () {
            return sendBatch(batch.slice(0, half), session);
          }).then(function (r) { return r === "ok" ? sendBatch(batch.slice(half), session) : r; });
        }
        if ((res.status === 400 || res.status === 413) && batch.length > 1) {
          // Something in the batch is malformed: send one at a time so only that entry is set aside.
          return backToPending(batch, null).then(function () {
            return batch.reduce(function (p, e) {
              return p.then(function (r) { return r === "ok" ? sendBatch([e], session) : r; });
            }, Promise.resolve("ok"));
          });
        }
        if (res.status === 400 || res.status === 413 || res.status === 403) {
          return res.json().catch(function () { return {}; }).then(function (info) {
            var reason = (info && info.message) || ("The server refused this entry (" + res.status + ").");
            if (res.status === 403) {
              return backToPending(batch, reason).then(function () { return "stop"; });
            }
            return markAll(batch, { status: "rejected", reason: reason, errors: info.errors || null })
              .then(function () { return "ok"; });
          });
        }
        if (!res.ok) {
          return backToPending(batch, "The server had a problem (" + res.status + "); will retry.")
            .then(function () { return setState({ phase: "error", error: "Server " + res.status }); })
            .then(function () { return "stop"; });
        }
        return res.json().then(function (payload) {
          var byId = {};
          (payload.results || []).forEach(function (r) { byId[r.id] = r; });
          var now = new Date().toISOString();
          return Promise.all(batch.map(function (e) {
            var r = byId[e.id];
            if (!r) { return update(e.id, { status: "pending", last_error: "No answer for this entry; will retry." }); }
            if (r.status === "applied" || r.status === "duplicate") {
              return update(e.id, { status: "sent", sent_at: now, record: r.record || null, reason: null,
                                    errors: null, last_error: null });
            }
            return update(e.id, { status: r.status === "conflict" ? "conflict" : "rejected",
                                  reason: r.reason || null, errors: r.errors || null, record: r.record || null });
          })).then(function () { return setMeta("last_sync", now); }).then(function () { return "ok"; });
        });
      }, function (err) {
        return backToPending(batch || [], "No network: " + (err && err.message ? err.message : "offline"))
          .then(function () { return setState({ phase: "offline" }); })
          .then(function () { return "stop"; });
      });
  }

  function pruneSent() {
    var cutoff = Date.now() - SENT_RETENTION_DAYS * 86400000;
    return all().then(function (rows) {
      return Promise.all(rows.filter(function (e) {
        return e.status === "sent" && e.sent_at && Date.parse(e.sent_at) < cutoff;
      }).map(function (e) { return remove(e.id); }));
    });
  }

  function doFlush() {
    return all().then(function (rows) {
      var waiting = rows.filter(function (e) { return e.status === "pending" || e.status === "sending"; });
      if (!waiting.length) { return setState({ phase: "idle" }); }
      return fetchSession().then(function (session) {
        if (!session) { return setState({ phase: "signin" }); }
        var mine = waiting.filter(function (e) { return e.author_id === session.user_id; })
          .sort(function (a, b) { return (a.saved_at || "").localeCompare(b.saved_at || ""); });
        var batches = [];
        for (var i = 0; i < mine.length; i += BATCH_SIZE) { batches.push(mine.slice(i, i + BATCH_SIZE)); }
        return batches.reduce(function (p, batch) {
          return p.then(function (r) { return r === "ok" ? sendBatch(batch, session) : r; });
        }, Promise.resolve("ok")).then(function (r) {
          if (r === "ok") { return setState({ phase: "idle", user_id: session.user_id }); }
          return null;
        });
      }, function (err) {
        return setState({ phase: "offline", error: err && err.message ? err.message : String(err) });
      });
    }).then(pruneSent).then(function () { notify("flushed"); });
  }

  var inFlight = null;
  // One flush at a time: in this context (inFlight) and across tabs and the worker (Web Locks).
  function flush() {
    if (inFlight) { return inFlight; }
    var task = (typeof navigator !== "undefined" && navigator.locks && navigator.locks.request)
      ? navigator.locks.request("itb-outbox-flush", doFlush) : doFlush();
    inFlight = Promise.resolve(task).catch(function (err) {
      return setState({ phase: "error", error: err && err.message ? err.message : String(err) });
    }).then(function () { inFlight = null; });
    return inFlight;
  }

  function summary(userId) {
    return Promise.all([all(), getMeta("last_sync"), getMeta("state")]).then(function (r) {
      var rows = r[0];
      var waiting = rows.filter(function (e) { return e.status === "pending" || e.status === "sending"; });
      return {
        entries: rows,
        pending: waiting.filter(function (e) { return userId == null || e.author_id === userId; }).length,
        pendingOthers: waiting.filter(function (e) { return userId != null && e.author_id !== userId; }).length,
        attention: rows.filter(function (e) {
          return (e.status === "rejected" || e.status === "conflict") && (userId == null || e.author_id === userId);
        }).length,
        lastSync: r[1],
        state: r[2] || { phase: "idle" }
      };
    });
  }

  global.ITBOutbox = {
    enqueue: enqueue, flush: flush, get: get, all: all, update: update, remove: remove, summary: summary,
    getMeta: getMeta, setMeta: setMeta, channel: channel, newId: newId
  };
})(typeof self !== "undefined" ? self : this);
