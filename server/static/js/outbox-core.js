/* The outbox: entries made on this phone, kept in IndexedDB until the server has acknowledged each one.
 *
 * Runs in the page and in the service worker (importScripts), so it touches no DOM. It is the only file that
 * knows the IndexedDB schema. Rules (docs/sync.md):
 *  - an entry is written with strict durability before the app says "Saved on this phone";
 *  - an id belongs to one act of saving; the same content saved again is the same entry, changed content a
 *    new one that never overwrites another (enqueue);
 *  - it leaves the "pending" state only on its own server result: applied/duplicate -> sent,
 *    rejected/conflict -> needs attention (kept, shown, never blocking the rest); an entry the server fails
 *    on (5xx) while it saves others is set aside as "failed" (needs attention), so it cannot stall the phone;
 *  - nothing is deleted except sent (or replaced) entries older than SENT_RETENTION_DAYS, and what the user
 *    discards; schema upgrades never drop data;
 *  - the current session is used for sending (never stored credentials); on 401 sending pauses;
 *  - entries by another user wait for that user; one flush at a time (Web Locks across tabs and the worker).
 */
(function (global) {
  "use strict";

  var DB_NAME = "itb-outbox";
  var DB_VERSION = 1;
  // Entries a push carries (docs/sync.md, "How many entries a request carries"): 500, the protocol's most, sent
  // gzip-compressed (about 60 KB: 5 s at 96 kbit/s); 100 where the browser cannot compress (CompressionStream),
  // so a plain push (about 165 KB) still uploads from a weak signal within REQUEST_TIMEOUT_MS.
  var BATCH_SIZE = 500;
  var PLAIN_BATCH_SIZE = 100;
  var SENT_RETENTION_DAYS = 7;
  var REQUEST_TIMEOUT_MS = 15000;
  var MAX_SERVER_FAILURES = 2;     // 500s on an entry sent alone, in flushes where the server saved others
  // Safari (so every browser on an iPhone) may clear a site's storage after 7 days without a visit. An entry
  // still only on this phone after this many hours is "at risk": the header and /outbox warn, well before
  // then. This is the one place the number lives (docs/ios.md).
  var AT_RISK_AFTER_HOURS = 24;
  var RETRY_EVERY_MS = 30000;      // the page's own timer (sendTriggers), where no Background Sync sends
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

  // Safari (WebKit) keeps a page it leaves in its back/forward cache, frozen with its IndexedDB transactions
  // unfinished, and a frozen transaction blocks every other page's writes to the same store: the next page's
  // Save would wait for ever. So when the page goes into that cache its unfinished transactions are abandoned
  // (aborted: a write is never half done, and nothing is confirmed to the user before its commit, so an
  // abandoned save was never said to be saved), no new one starts, and what waited on them never settles; a
  // page shown again from that cache is loaded afresh. `live`: the transactions not finished yet.
  var live = [];
  var frozen = false;
  function never() { return new Promise(function () { /* the page is in the back/forward cache */ }); }
  function watchPageCache(win) {
    win.addEventListener("pagehide", function (evt) {
      if (!evt.persisted) { return; }  // unloaded for good: the browser ends its transactions itself
      frozen = true;
      live.slice().forEach(function (t) { try { t.abort(); } catch (e) { /* finished meanwhile */ } });
    });
    win.addEventListener("pageshow", function (evt) {
      if (evt.persisted) { win.location.reload(); }  // the load trigger sends what waits
    });
  }

  // Run `fn(transaction)` and resolve when the transaction has COMMITTED (strict durability for writes).
  // `fn` returns an IDBRequest (its result is resolved), a function (called after commit), or a value.
  function run(stores, mode, fn) {
    if (frozen) { return never(); }
    return getDb().then(function (db) {
      if (frozen) { return never(); }
      return new Promise(function (resolve, reject) {
        var t = mode === "readwrite" ? db.transaction(stores, mode, { durability: "strict" })
                                     : db.transaction(stores, mode);
        live.push(t);
        var done = function () { live = live.filter(function (x) { return x !== t; }); };
        var out;
        try { out = fn(t); } catch (err) {
          done();
          try { t.abort(); } catch (e) { /* already done */ }
          reject(err);
          return;
        }
        t.oncomplete = function () {
          done();
          if (out && typeof IDBRequest !== "undefined" && out instanceof IDBRequest) { resolve(out.result); }
          else if (typeof out === "function") { resolve(out()); }
          else { resolve(out); }
        };
        t.onerror = function () { done(); if (!frozen) { reject(t.error); } };
        t.onabort = function () {
          done();
          if (!frozen) { reject(t.error || new Error("The phone's storage refused the write.")); }
        };
      });
    });
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

  // Canonical JSON (keys sorted at every level), so two saves of the same form compare equal.
  function canonical(value) {
    if (Array.isArray(value)) { return "[" + value.map(canonical).join(",") + "]"; }
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + canonical(value[k]);
      }).join(",") + "}";
    }
    return JSON.stringify(value === undefined ? null : value);
  }
  function sameContent(a, b) {
    return a.kind === b.kind && a.author_id === b.author_id &&
      (a.base_rev == null ? null : a.base_rev) === (b.base_rev == null ? null : b.base_rev) &&
      canonical(a.payload) === canonical(b.payload);
  }
  var NEEDS_ATTENTION = { rejected: true, conflict: true, failed: true };
  // Not on the server yet: only this phone holds it (a conflict's version is kept by the server too).
  var ONLY_ON_PHONE = { pending: true, sending: true, rejected: true, failed: true };

  // Entries, of any user, that have waited on this phone for AT_RISK_AFTER_HOURS or more without reaching
  // the server: the browser may clear them (Safari after 7 days without a visit).
  function atRisk(rows, nowMs) {
    var cutoff = (nowMs == null ? Date.now() : nowMs) - AT_RISK_AFTER_HOURS * 3600000;
    return rows.filter(function (e) {
      return ONLY_ON_PHONE[e.status] === true && !!e.saved_at && Date.parse(e.saved_at) <= cutoff;
    });
  }

  // Save an entry on this phone. Resolves (with the row as stored, and `outcome`) once IndexedDB has
  // committed it. The entry-identity rule (docs/sync.md):
  //  - an id belongs to one act of saving: the page makes it when the form is loaded, and a page opened from
  //    the offline cache gets a new one;
  //  - the same id with the same content (kind, payload, base revision, author) is the SAME entry, in any
  //    state: nothing changes ("unchanged"), except that a rejected or failed entry is tried again ("retry");
  //  - the same id with other content is a NEW entry with a new id ("new"): it never overwrites the entry
  //    already saved, whatever its state. A rejected or failed entry it corrects is marked "replaced" (the
  //    server never stored it; the new entry carries what the user means now).
  function enqueue(entry) {
    var now = new Date().toISOString();
    return run(["entries"], "readwrite", function (t) {
      var store = t.objectStore("entries");
      var out = { row: null, outcome: "saved" };
      var r = store.get(entry.id);
      r.onsuccess = function () {
        var existing = r.result;
        var fresh = Object.assign({ attempts: 0, server_failures: 0, last_error: null, reason: null, errors: null },
                                  entry, { status: "pending", saved_at: now });
        if (!existing) {
          out.row = fresh;
          store.put(fresh);
          return;
        }
        if (sameContent(existing, entry)) {
          if (existing.status === "rejected" || existing.status === "failed") {
            out.row = Object.assign({}, existing, { status: "pending", reason: null, errors: null,
                                                   server_failures: 0, last_error: null });
            out.outcome = "retry";
            store.put(out.row);
          } else {
            out.row = existing;
            out.outcome = "unchanged";
          }
          return;
        }
        fresh.id = newId();
        fresh.follows_local = existing.id;
        out.row = fresh;
        out.outcome = "new";
        store.put(fresh);
        if (existing.status === "rejected" || existing.status === "failed") {
          store.put(Object.assign({}, existing, { status: "replaced", replaced_by: fresh.id, replaced_at: now }));
        }
      };
      return function () { return out; };
    }).then(function (out) {
      if (out.outcome !== "unchanged") { notify("saved"); }
      return Object.assign({ outcome: out.outcome }, out.row);
    });
  }

  // fetch with a deadline that really cancels the request (AbortController), so a slow link never leaves a
  // stale send running beside the next one.
  function fetchWithTimeout(url, options, ms) {
    var ctrl = typeof AbortController !== "undefined" ? new AbortController() : null;
    var timer;
    var deadline = new Promise(function (_, reject) {
      timer = setTimeout(function () {
        if (ctrl) { ctrl.abort(); }
        reject(new Error("The server took too long to answer."));
      }, ms);
    });
    var request = fetch(url, ctrl ? Object.assign({ signal: ctrl.signal }, options) : options);
    return Promise.race([request, deadline]).then(
      function (v) { clearTimeout(timer); return v; },
      function (e) { clearTimeout(timer); throw e; });
  }

  // GET /api/session: {user_id, csrf_token} when signed in, null on 401; throws when there is no network.
  function fetchSession() {
    return fetchWithTimeout("/api/session", { credentials: "same-origin", cache: "no-store",
                                              headers: { "Accept": "application/json" } }, REQUEST_TIMEOUT_MS)
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

  // Claim each entry in its own transaction (pending/sending -> sending) and send the content as stored.
  // Content never changes under a claimed id: a changed form is a new entry (enqueue).
  function claim(candidates) {
    return Promise.all(candidates.map(function (e) {
      return update(e.id, function (row) {
        return (row.status === "pending" || row.status === "sending") ? { status: "sending" } : {};
      });
    })).then(function (rows) {
      return rows.filter(function (row) { return row && row.status === "sending"; });
    });
  }

  // Set when the server (or a proxy before it) refuses a compressed push with 415 (RFC 7694): from then on, in
  // this page or worker, pushes go as plain JSON.
  var compressionRefused = false;

  function canCompress() {
    return !compressionRefused && typeof CompressionStream !== "undefined" && typeof Blob !== "undefined" &&
      typeof Response !== "undefined";
  }

  // The body gzip-compressed (a Blob), or null where the browser cannot compress.
  function gzipped(text) {
    if (!canCompress()) { return Promise.resolve(null); }
    return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).blob()
      .catch(function () { return null; });
  }

  function post(batch, session) {
    var deviceId = batch[0].device_id;
    var text = JSON.stringify({ protocol_version: 1, device_id: deviceId, entries: batch.map(wireEntry) });
    return gzipped(text).then(function (zipped) {
      var headers = { "Content-Type": "application/json", "Accept": "application/json",
                      "X-CSRFToken": session.csrf_token, "X-Device-Id": deviceId };
      if (zipped) { headers["Content-Encoding"] = "gzip"; }
      return fetchWithTimeout("/api/sync", {
        method: "POST", credentials: "same-origin", cache: "no-store", body: zipped || text, headers: headers
      }, REQUEST_TIMEOUT_MS);
    });
  }

  function jsonOf(res) {
    return res.json().catch(function () { return {}; }).then(function (info) { return info || {}; });
  }

  // Send `entries` in order, `size` a request: "stop" ends it (no network, signed out, or the server failing
  // for everyone), "ok" goes on.
  function sendInBatches(entries, size, session, flushState) {
    var batches = [];
    for (var i = 0; i < entries.length; i += size) { batches.push(entries.slice(i, i + size)); }
    return batches.reduce(function (p, batch) {
      return p.then(function (r) { return r === "ok" ? sendBatch(batch, session, flushState) : r; });
    }, Promise.resolve("ok"));
  }

  // Send each entry alone, in order.
  function sendEach(batch, session, flushState) {
    return sendInBatches(batch, 1, session, flushState);
  }

  // Send one batch. Resolves "ok" to go on, or "stop" (no network, signed out, server down).
  function sendBatch(candidates, session, flushState) {
    var batch = [];
    return claim(candidates).then(function (rows) {
      batch = rows;
      if (!batch.length) { return "ok"; }
      notify("sending");
      return post(batch, session).then(function (res) {
        return answer(res, batch, session, flushState);
      }, function (err) {
        return backToPending(batch, "No network: " + (err && err.message ? err.message : "offline"))
          .then(function () { return setState({ phase: "offline" }); })
          .then(function () { return "stop"; });
      });
    }).catch(function (err) {  // an answer we could not read: nothing is lost, the entries wait
      return backToPending(batch, "Could not read the server's answer: " + (err && err.message))
        .then(function () { return "stop"; });
    });
  }

  function answer(res, batch, session, flushState) {
    if (res.status === 401 || res.redirected) {
      return backToPending(batch, "Sign in to send.")
        .then(function () { return setState({ phase: "signin" }); })
        .then(function () { return "stop"; });
    }
    if ((res.status === 413 || res.status === 400) && batch.length > 1) {
      // Too large (413), or something in it is malformed (400): nothing was saved. Send each half again, in
      // order; a half refused again is halved again, so a malformed entry ends alone and only it is set aside
      // (about 2 x log2(n) requests for one such entry among n, not n).
      var half = Math.ceil(batch.length / 2);
      return backToPending(batch, null).then(function () {
        return sendBatch(batch.slice(0, half), session, flushState);
      }).then(function (r) { return r === "ok" ? sendBatch(batch.slice(half), session, flushState) : r; });
    }
    if (res.status === 415 && canCompress()) {
      // A compressed push refused for its encoding: nothing was saved. Send the same entries again as plain
      // JSON, PLAIN_BATCH_SIZE a request, and compress no more.
      compressionRefused = true;
      return backToPending(batch, null).then(function () {
        return sendInBatches(batch, PLAIN_BATCH_SIZE, session, flushState);
      });
    }
    if (res.status === 400 || res.status === 413) {
      return jsonOf(res).then(function (info) {
        var reason = info.message || ("The server refused this entry (" + res.status + ").");
        return markAll(batch, { status: "rejected", reason: reason, errors: info.errors || null })
          .then(function () { return "ok"; });
      });
    }
    if (res.status === 403) {  // another user's entries, or a sign-in that changed meanwhile: wait, retry later
      return jsonOf(res).then(function (info) {
        return backToPending(batch, info.message || "The server refused to take these now (403).");
      }).then(function () { return "stop"; });
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      // The server (or the proxy in front of it) is unavailable or busy: nothing was saved; try later.
      return backToPending(batch, "The server is unavailable (" + res.status + "); will retry.")
        .then(function () { return setState({ phase: "error", error: "Server " + res.status }); })
        .then(function () { return "stop"; });
    }
    if (!res.ok) {
      // The server failed on this request (500): one entry may be what it chokes on. Send one at a time, so
      // that entry cannot hold back the rest; the others go on whatever it answers.
      var message = "The server had a problem (" + res.status + "); will retry.";
      if (batch.length > 1) {
        return backToPending(batch, message).then(function () { return sendEach(batch, session, flushState); });
      }
      flushState.failedAlone.push(batch[0].id);
      return backToPending(batch, message).then(function () { return "ok"; });
    }
    return res.json().then(function (payload) {
      var byId = {};
      (payload.results || []).forEach(function (r) { byId[r.id] = r; });
      var now = new Date().toISOString();
      return Promise.all(batch.map(function (e) {
        var r = byId[e.id];
        if (!r) { return update(e.id, { status: "pending", last_error: "No answer for this entry; will retry." }); }
        if (r.status === "applied" || r.status === "duplicate") {
          flushState.sent += 1;
          return update(e.id, { status: "sent", sent_at: now, record: r.record || null, reason: null,
                                errors: null, last_error: null, server_failures: 0 });
        }
        return update(e.id, { status: r.status === "conflict" ? "conflict" : "rejected",
                              reason: r.reason || null, errors: r.errors || null, record: r.record || null });
      })).then(function () { return setMeta("last_sync", now); }).then(function () { return "ok"; });
    });
  }

  // After a flush: an entry the server failed on alone (500) while it saved others counts one failure;
  // after MAX_SERVER_FAILURES it needs attention (kept, with the reason, "Try again" on /outbox), so it can
  // never stall the phone. When the server failed for every entry, it is the server: nothing is counted.
  function settleServerFailures(flushState) {
    if (!flushState.sent || !flushState.failedAlone.length) { return Promise.resolve(); }
    return Promise.all(flushState.failedAlone.map(function (id) {
      return update(id, function (row) {
        if (row.status !== "pending") { return {}; }
        var n = (row.server_failures || 0) + 1;
        return n >= MAX_SERVER_FAILURES
          ? { server_failures: n, status: "failed",
              reason: "The server could not save this entry after " + n + " tries. It is kept on this phone: " +
                      "try again later, or export it for IT." }
          : { server_failures: n };
      });
    }));
  }

  function pruneSent() {
    var cutoff = Date.now() - SENT_RETENTION_DAYS * 86400000;
    return all().then(function (rows) {
      return Promise.all(rows.filter(function (e) {
        var at = e.status === "sent" ? e.sent_at : (e.status === "replaced" ? e.replaced_at : null);
        return at && Date.parse(at) < cutoff;
      }).map(function (e) { return remove(e.id); }));
    });
  }

  function doFlush() {
    return all().then(function (rows) {
      var waiting = rows.filter(function (e) { return e.status === "pending" || e.status === "sending"; });
      if (!waiting.length) { return setState({ phase: "idle" }); }
      return fetchSession().then(function (session) {
        if (!session) { return setState({ phase: "signin" }); }
        // Oldest first; entries the server has failed on sink to the back, behind everything else.
        var mine = waiting.filter(function (e) { return e.author_id === session.user_id; })
          .sort(function (a, b) {
            return ((a.server_failures || 0) - (b.server_failures || 0)) ||
              (a.saved_at || "").localeCompare(b.saved_at || "");
          });
        var flushState = { sent: 0, failedAlone: [] };
        var size = canCompress() ? BATCH_SIZE : PLAIN_BATCH_SIZE;
        return sendInBatches(mine, size, session, flushState).then(function (r) {
          return settleServerFailures(flushState).then(function () {
            if (r === "ok") { return setState({ phase: "idle", user_id: session.user_id }); }
            return null;
          });
        });
      }, function (err) {
        return setState({ phase: "offline", error: err && err.message ? err.message : String(err) });
      });
    }).then(pruneSent).then(function () { notify("flushed"); });
  }

  var inFlight = null;
  var followUp = null;
  // One flush at a time: in this context (inFlight) and across tabs and the worker (Web Locks). A flush asked
  // for while one runs is run once more after it (an entry saved meanwhile is not left for the timer).
  function flush() {
    if (inFlight) {
      if (!followUp) {
        followUp = inFlight.then(function () { followUp = null; return flush(); });
      }
      return followUp;
    }
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
          return NEEDS_ATTENTION[e.status] === true && (userId == null || e.author_id === userId);
        }).length,
        atRisk: atRisk(rows).length,
        lastSync: r[1],
        state: r[2] || { phase: "idle" }
      };
    });
  }

  // Storage the browser promises to keep (navigator.storage.persist()). `ask` asks for it (no prompt in Safari or
  // Chromium; they decide themselves, e.g. Safari for an app added to the Home Screen); otherwise it only reads
  // the state. Resolves {supported, persisted, asked}; never rejects. Browsers without the Storage API (older
  // iOS, WebKitGTK unless enabled) answer {supported: false}: the outbox works the same, unprotected.
  function storagePersistence(ask, nav) {
    nav = nav || (typeof navigator !== "undefined" ? navigator : null);
    var storage = nav && nav.storage;
    if (!storage || typeof storage.persisted !== "function") {
      return Promise.resolve({ supported: false, persisted: false, asked: false });
    }
    var asked = false;
    return Promise.resolve().then(function () { return storage.persisted(); }).then(function (already) {
      if (already || !ask || typeof storage.persist !== "function") { return already; }
      asked = true;
      return storage.persist();
    }).then(function (persisted) {
      return { supported: true, persisted: persisted === true, asked: asked };
    }, function () {
      return { supported: true, persisted: false, asked: asked };
    });
  }

  // When the page sends the outbox itself. Background Sync (the worker's "sync" event) exists only in
  // Chromium; Safari and Firefox have none, so these are what sends there (docs/ios.md): at once (the page
  // loads; also a page shown again from the back/forward cache, which watchPageCache reloads), when the
  // network returns ("online"), when the app is shown again ("visibilitychange"), and every RETRY_EVERY_MS
  // while the browser thinks it is online (a phone on Wi-Fi that cannot reach the server fires no "online"
  // event). `send(reason)` is called for each; returns a function that stops them.
  function sendTriggers(win, doc, send) {
    function onOnline() { send("online"); }
    function onVisible() { if (doc.visibilityState === "visible") { send("visible"); } }
    win.addEventListener("online", onOnline);
    doc.addEventListener("visibilitychange", onVisible);
    var timer = win.setInterval(function () {
      if (!win.navigator || win.navigator.onLine !== false) { send("timer"); }
    }, RETRY_EVERY_MS);
    send("load");
    return function stop() {
      win.removeEventListener("online", onOnline);
      doc.removeEventListener("visibilitychange", onVisible);
      win.clearInterval(timer);
    };
  }

  global.ITBOutbox = {
    enqueue: enqueue, flush: flush, get: get, all: all, update: update, remove: remove, summary: summary,
    getMeta: getMeta, setMeta: setMeta, channel: channel, newId: newId, sameContent: sameContent,
    NEEDS_ATTENTION: NEEDS_ATTENTION, atRisk: atRisk, AT_RISK_AFTER_HOURS: AT_RISK_AFTER_HOURS,
    storagePersistence: storagePersistence, sendTriggers: sendTriggers, RETRY_EVERY_MS: RETRY_EVERY_MS,
    watchPageCache: watchPageCache
  };
})(typeof self !== "undefined" ? self : globalThis);
