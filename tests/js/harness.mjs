// Test harness for server/static/js/outbox-core.js: loads the real file (as the browser does, no build step)
// into a fresh node:vm context with fake-indexeddb, a controllable clock and a scripted fake server.
//
//   const idb = new IDBFactory();                 // one per test: tests never share a database
//   const server = fakeServer();                  // GET /api/session + POST /api/sync, idempotent by id
//   const { Outbox } = loadOutbox({ idb, server });
//   await Outbox.enqueue(entry({ id: "a" }));
//   await Outbox.flush();
//   server.syncRequests[0].body.entries ...
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { webcrypto } from "node:crypto";
import { fileURLToPath } from "node:url";
import { IDBFactory, IDBKeyRange, IDBRequest, IDBOpenDBRequest, IDBTransaction, IDBDatabase, IDBObjectStore,
  IDBIndex, IDBCursor, IDBCursorWithValue, IDBVersionChangeEvent } from "fake-indexeddb";

export { IDBFactory, IDBDatabase };

const here = path.dirname(fileURLToPath(import.meta.url));
// OUTBOX_SOURCE=/path/to/other/outbox-core.js runs the suite against another version (e.g. to check that a
// test catches an old bug).
export const SOURCE_PATH = process.env.OUTBOX_SOURCE || path.resolve(here, "../../server/static/js/outbox-core.js");
const SOURCE = fs.readFileSync(SOURCE_PATH, "utf8");
const SCRIPT = new vm.Script(SOURCE, { filename: SOURCE_PATH });

export const DAY = 86400000;
export const USER = 7;
export const OTHER_USER = 8;
export const CSRF = "csrf-token-of-user-7";

// ---- time -------------------------------------------------------------------------------------------------

// A clock the outbox reads through `Date` (saved_at, sent_at, the prune cutoff). It moves only when a test
// says so, so timestamps are exact and ordering is under the test's control.
export function makeClock(startIso = "2026-03-02T08:00:00.000Z") {
  const clock = {
    ms: Date.parse(startIso),
    now() { return clock.ms; },
    iso() { return new Date(clock.ms).toISOString(); },
    advance(ms) { clock.ms += ms; return clock; },
  };
  class FakeDate extends Date {
    constructor(...args) {
      if (args.length === 0) { super(clock.ms); } else { super(...args); }
    }
    static now() { return clock.ms; }
  }
  clock.Date = FakeDate;
  return clock;
}

// ---- the server -------------------------------------------------------------------------------------------

const json = (status, body) => new Response(JSON.stringify(body), {
  status, headers: { "Content-Type": "application/json" } });

function abortError() {
  const err = new Error("The operation was aborted.");
  err.name = "AbortError";
  return err;
}

function canonical(value) {
  if (Array.isArray(value)) { return "[" + value.map(canonical).join(",") + "]"; }
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value === undefined ? null : value);
}

// A scripted stand-in for the Flask app. By default it behaves like the real /api/sync: idempotent by entry
// id (a known id with the same content is "duplicate", with other content "conflict"), one result per entry in
// order. Tests steer it with:
//   session      {user_id, csrf_token}, or null for 401 (signed out)
//   offline      true: every fetch rejects like a dropped network
//   script       queue of answers for the next POST /api/sync requests (see `respond` below), used first
//   handler      function(req, server) -> answer, used when the script is empty (default: server.process)
//   verdicts     Map id -> {status, reason, errors} (a result other than applied), or {http: 400|500, message}
//                (any request carrying that id gets that whole-request answer, like a malformed entry)
//   maxEntries   a request with more entries gets 413
//   hold()       answers to /api/sync wait until the returned release() is called
// An answer (or a promise of one, to answer later) is a Response, {status, body}, {status, text}, "hang" (never answers; rejects with an AbortError
// when the request's signal aborts), an Error (the fetch rejects), or a minimal response-like object
// ({status, ok, redirected, json}).
export function fakeServer({ userId = USER, csrf = CSRF } = {}) {
  const listeners = [];
  const server = {
    session: { user_id: userId, csrf_token: csrf },
    offline: false,
    script: [],
    handler: null,
    verdicts: new Map(),
    maxEntries: Infinity,
    ledger: new Map(),        // id -> canonical content, as applied
    appliedCount: new Map(),  // id -> how many times the server applied it (must end at 1)
    requests: [],             // every fetch: {url, method, headers, body, signal, aborted}
    answered: [],             // every /api/sync result the server gave: {id, status}
    inFlight: 0,
    maxInFlight: 0,
    gate: null,
    nextRecordId: 1,

    get syncRequests() { return server.requests.filter((r) => r.url === "/api/sync"); },
    get sessionRequests() { return server.requests.filter((r) => r.url === "/api/session"); },
    batchSizes() { return server.syncRequests.map((r) => r.body.entries.length); },
    sentIds() { return server.syncRequests.flatMap((r) => r.body.entries.map((e) => e.id)); },
    ackedIds() {
      return new Set(server.answered.filter((a) => a.status === "applied" || a.status === "duplicate")
        .map((a) => a.id));
    },

    hold() {
      let release;
      server.gate = new Promise((resolve) => { release = resolve; });
      return () => { server.gate = null; release(); };
    },
    // Resolves once `n` POST /api/sync requests have arrived.
    waitForSync(n = 1) {
      return new Promise((resolve) => {
        const check = () => {
          if (server.syncRequests.length >= n) { resolve(server.syncRequests[n - 1]); return true; }
          return false;
        };
        if (!check()) { listeners.push(check); }
      });
    },

    // The default /api/sync behaviour (the real server's rules, in memory).
    process(req) {
      const entries = req.body.entries;
      for (const e of entries) {
        const v = server.verdicts.get(e.id);
        if (v && v.http) {
          return { status: v.http, body: { message: v.message || "Server says " + v.http, errors: v.errors } };
        }
      }
      if (entries.length > server.maxEntries) {
        return { status: 413, body: { message: "Request too large." } };
      }
      const results = entries.map((e) => {
        const v = server.verdicts.get(e.id);
        if (v) { return Object.assign({ id: e.id }, v); }
        const content = canonical([e.kind, e.payload, e.author_id, e.base_rev]);
        if (server.ledger.has(e.id)) {
          return server.ledger.get(e.id).content === content
            ? { id: e.id, status: "duplicate", record: server.ledger.get(e.id).record }
            : { id: e.id, status: "conflict", reason: "Saved before with other content." };
        }
        const record = { type: "assessment", id: server.nextRecordId++ };
        server.ledger.set(e.id, { content, record });
        server.appliedCount.set(e.id, (server.appliedCount.get(e.id) || 0) + 1);
        return { id: e.id, status: "applied", record };
      });
      return { status: 200, body: { protocol_version: 1, server_time: new Date().toISOString(), results } };
    },
  };

  function respond(answer, req) {
    if (answer === "hang") {
      return new Promise((_, reject) => {
        const fail = () => { req.aborted = true; reject(abortError()); };
        if (req.signal && req.signal.aborted) { fail(); } else if (req.signal) {
          req.signal.addEventListener("abort", fail);
        }
      });
    }
    if (answer instanceof Error) { return Promise.reject(answer); }
    if (answer instanceof Response) { return Promise.resolve(answer); }
    if (answer && typeof answer.json === "function") { return Promise.resolve(answer); }  // response-like
    if (answer && "text" in answer) { return Promise.resolve(new Response(answer.text, { status: answer.status })); }
    if (answer && answer.status === 200 && answer.body && Array.isArray(answer.body.results)) {
      for (const r of answer.body.results) { server.answered.push({ id: r.id, status: r.status }); }
    }
    return Promise.resolve(json(answer.status, answer.body === undefined ? {} : answer.body));
  }

  // The JSON a request carries: a text, or a Blob (gzip-inflated when `Content-Encoding: gzip` says so).
  async function bodyOf(options) {
    if (typeof options.body === "string") { return JSON.parse(options.body); }
    if (!options.body || typeof options.body.stream !== "function") { return null; }
    const gzip = (options.headers || {})["Content-Encoding"] === "gzip";
    const stream = gzip ? options.body.stream().pipeThrough(new DecompressionStream("gzip")) : options.body.stream();
    return JSON.parse(await new Response(stream).text());
  }

  server.fetch = async function fetch(url, options = {}) {
    const req = {
      url: String(url),
      method: (options.method || "GET").toUpperCase(),
      headers: Object.assign({}, options.headers),
      credentials: options.credentials,
      body: await bodyOf(options),
      signal: options.signal || null,
      aborted: false,
    };
    server.requests.push(req);
    if (server.offline) { throw new TypeError("Failed to fetch"); }
    if (req.url === "/api/session") {
      return server.session ? json(200, server.session) : json(401, { message: "Sign in." });
    }
    if (req.url !== "/api/sync") { return json(404, {}); }
    for (let i = listeners.length - 1; i >= 0; i--) { if (listeners[i]()) { listeners.splice(i, 1); } }
    server.inFlight += 1;
    server.maxInFlight = Math.max(server.maxInFlight, server.inFlight);
    try {
      if (server.gate) { await server.gate; }
      let answer = server.script.length ? server.script.shift() : (server.handler || server.process)(req, server);
      if (typeof answer === "function") { answer = answer(req, server); }
      if (answer && typeof answer.then === "function") { answer = await answer; }   // answered later
      return await respond(answer, req);
    } finally {
      server.inFlight -= 1;
    }
  };
  return server;
}

// ---- Web Locks, BroadcastChannel, document ----------------------------------------------------------------

// navigator.locks with exclusive, queued locks; share one between contexts to model tabs of one browser.
export function fakeLocks() {
  const tails = new Map();
  return {
    request(name, fn) {
      const prev = tails.get(name) || Promise.resolve();
      const run = prev.then(() => fn({ name, mode: "exclusive" }));
      tails.set(name, run.then(() => {}, () => {}));
      return run;
    },
  };
}

// A BroadcastChannel class that records what each instance posts (messages.length, messages[i].what).
export function fakeBroadcastChannel() {
  const posted = [];
  class BroadcastChannel {
    constructor(name) { this.name = name; }
    postMessage(msg) { posted.push(Object.assign({ channel: this.name }, msg)); }
    addEventListener() {}
    close() {}
  }
  return { BroadcastChannel, posted };
}

// ---- loading the outbox -----------------------------------------------------------------------------------

// A fresh JavaScript context (a tab, or the service worker) running outbox-core.js. Contexts given the same
// `idb` share the database, like tabs of one browser.
// `compression`: the context has CompressionStream (every browser the app supports): pushes go gzip-compressed,
// 500 entries a request; without it (the default here, as in an old browser) they go as plain JSON, 100 a request.
export function loadOutbox({ idb = new IDBFactory(), server = fakeServer(), clock = makeClock(), locks = null,
  BroadcastChannel = null, document = null, compression = false } = {}) {
  // The factory as the page sees it; the connections it opens are kept, so a test can close them.
  const connections = [];
  const factory = {
    open(...args) {
      const req = idb.open(...args);
      req.addEventListener("success", () => connections.push(req.result));
      return req;
    },
    deleteDatabase: (...args) => idb.deleteDatabase(...args),
    databases: () => idb.databases(),
    cmp: (a, b) => idb.cmp(a, b),
  };
  const sandbox = {
    indexedDB: factory,
    IDBFactory, IDBKeyRange, IDBRequest, IDBOpenDBRequest, IDBTransaction, IDBDatabase, IDBObjectStore,
    IDBIndex, IDBCursor, IDBCursorWithValue, IDBVersionChangeEvent,
    crypto: webcrypto,
    AbortController,
    // Looked up at call time, so node:test's mock timers (t.mock.timers) drive the request deadline.
    setTimeout: (...args) => globalThis.setTimeout(...args),
    clearTimeout: (...args) => globalThis.clearTimeout(...args),
    Promise,
    console,
    JSON,
    Date: clock.Date,
    fetch: server.fetch,
  };
  if (compression) { Object.assign(sandbox, { CompressionStream, Blob, Response }); }
  if (locks) { sandbox.navigator = { locks }; }
  if (BroadcastChannel) { sandbox.BroadcastChannel = BroadcastChannel; }
  if (document) { sandbox.document = document; sandbox.CustomEvent = CustomEvent; }
  sandbox.self = sandbox;
  const context = vm.createContext(sandbox);
  SCRIPT.runInContext(context);
  return { context, Outbox: context.ITBOutbox, idb, server, clock, connections };
}

// ---- entries and the database -----------------------------------------------------------------------------

let counter = 0;
// An entry as outbox-ui.js builds it from a form.
export function entry(overrides = {}) {
  counter += 1;
  return Object.assign({
    id: webcrypto.randomUUID(),
    kind: "assessments.record",
    payload: { patient: "12", score: String(counter % 5), notes: "entry " + counter, goals: ["1", "3"] },
    author_id: USER,
    device_id: "device-1",
    recorded_at: "2026-03-02T07:59:00.000Z",
    base_rev: null,
    form_version: 1,
    label: "Assessment " + counter,
    return_url: "/trials/1/days/2",
  }, overrides);
}

// Rows from the context are objects of another realm: compare them as plain data.
export const plain = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

export async function rowsById(Outbox) {
  const rows = await Outbox.all();
  return Object.fromEntries(rows.map((r) => [r.id, plain(r)]));
}

export async function statuses(Outbox) {
  const rows = await Outbox.all();
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

// Open the database directly (as another version of the app would), bypassing the outbox.
// `onblocked` is called if another connection does not close for the upgrade (by default: reject).
export function openRaw(idb, version, upgrade, onblocked) {
  return new Promise((resolve, reject) => {
    const req = idb.open("itb-outbox", version);
    req.onupgradeneeded = (event) => { if (upgrade) { upgrade(req.result, event, req.transaction); } };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => (onblocked ? onblocked() : reject(new Error("blocked")));
  });
}

export function rawGetAll(db, store) {
  return new Promise((resolve, reject) => {
    const r = db.transaction([store], "readonly").objectStore(store).getAll();
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function rawPut(db, store, rows) {
  return new Promise((resolve, reject) => {
    const t = db.transaction([store], "readwrite");
    for (const row of rows) { t.objectStore(store).put(row); }
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
  });
}
