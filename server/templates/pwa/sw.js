/* ITB trial service worker: lifecycle and routing only. The outbox (IndexedDB, sending) is outbox-core.js, the
 * same built file the pages load. Served at a stable URL (/sw.js), never cached stale.
 * Version {{ version }}: changes whenever a precached file changes. */
"use strict";
importScripts("{{ asset('outbox-core.js') }}");

var VERSION = "{{ version }}";
var SHELL_CACHE = "itb-shell-" + VERSION;
var PAGE_CACHE = "itb-pages-v1";          // whole pages, by URL
var FRAGMENT_CACHE = "itb-fragments-v1";  // htmx fragments (the other side of Vary: HX-Request), by URL
var SHELL = {{ shell_json | safe }};
// This release's built files by name ({"common.js": "/static/dist/common.3f2a9c1e.js", ...}): a page kept from
// an earlier release names that release's files, which this worker no longer keeps (see cacheFirst).
var BUNDLES = {{ bundles_json | safe }};
var BUILT_FILE = /^\/static\/dist\/(.+)\.[0-9a-f]{8}(\.[a-z]+)$/;
var NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  // No skipWaiting() here: a new version never takes over a page mid-entry. The page offers a reload.
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("itb-shell-") === 0 && k !== SHELL_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  var msg = event.data || {};
  if (msg.type === "SKIP_WAITING") { self.skipWaiting(); }
  else if (msg.type === "CLAIM") { event.waitUntil(self.clients.claim()); }
  else if (msg.type === "WARM") { event.waitUntil(warm(msg.urls || [])); }
  else if (msg.type === "FORGET_PAGES") {
    event.waitUntil(Promise.all([caches.delete(PAGE_CACHE), caches.delete(FRAGMENT_CACHE)]));
  }
  else if (msg.type === "FLUSH") { event.waitUntil(self.ITBOutbox.flush()); }
});

// Background Sync (Chromium): send the outbox even if the page was closed. Elsewhere the page sends it.
self.addEventListener("sync", function (event) {
  if (event.tag === "itb-outbox") { event.waitUntil(self.ITBOutbox.flush()); }
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  // Writes are never queued blindly here: offline entries go through the outbox, which knows what they are.
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  // The API is always live; parents' pages are never stored on a device.
  if (url.pathname.indexOf("/api/") === 0 || url.pathname === "/sw.js" || url.pathname.indexOf("/p/") === 0) {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) { event.respondWith(cacheFirst(req)); return; }
  event.respondWith(networkFirst(req));
});

// Static files: the copy this worker keeps, without asking (built files are named by their content; the icons are
// fetched again with each new version). A built file of another release that the server no longer has, or
// that cannot be fetched (a page stored before an update, opened with no network), is answered with this
// release's bundle of the same name.
function cacheFirst(req) {
  return caches.match(req).then(function (hit) {
    if (hit) { return hit; }
    return fetch(req).then(function (res) {
      if (res.ok) {
        var copy = res.clone();
        caches.open(SHELL_CACHE).then(function (c) { return c.put(req, copy); });
        return res;
      }
      return sameBundle(req).then(function (same) { return same || res; });
    }, function (err) {
      return sameBundle(req).then(function (same) {
        if (same) { return same; }
        throw err;
      });
    });
  });
}

function sameBundle(req) {
  var built = BUILT_FILE.exec(new URL(req.url).pathname);
  var current = built && BUNDLES[built[1] + built[2]];
  return current ? caches.match(current) : Promise.resolve(undefined);
}

function isFragment(req) {
  return req.headers.get("HX-Request") === "true" && req.headers.get("HX-Boosted") !== "true";
}

function storable(res) {
  return res.ok && !res.redirected && res.type === "basic" &&
    !/no-store/.test(res.headers.get("Cache-Control") || "");
}

function timeout(ms) {
  return new Promise(function (_, reject) {
    setTimeout(function () { reject(new Error("network timeout")); }, ms);
  });
}

// A copy served for want of network says so: a <template data-offline-copy="(its Date header)"> at the start of
// the body (a page) or of the fragment, which app.js turns into a notice with the copy's time. What was due
// then may have changed; staff must not take a copy for the present.
function markCopy(res, fragment) {
  if ((res.headers.get("Content-Type") || "").indexOf("text/html") !== 0) { return res; }
  var when = (res.headers.get("Date") || "").replace(/[^A-Za-z0-9 ,:]/g, "");
  var mark = '<template data-offline-copy="' + when + '"></template>';
  return res.text().then(function (html) {
    var marked = fragment ? mark + html : html.replace(/<body[^>]*>/i, function (tag) { return tag + mark; });
    var headers = new Headers(res.headers);
    headers.delete("Content-Length");
    headers.delete("Content-Encoding");
    return new Response(marked, { status: res.status, statusText: res.statusText, headers: headers });
  });
}

// Network first (with a timeout), so staff see fresh data; the last copy when the ward has no network.
function networkFirst(req) {
  var cacheName = isFragment(req) ? FRAGMENT_CACHE : PAGE_CACHE;
  var key = new Request(req.url);   // the variant is chosen by the cache name, so Vary: HX-Request holds
  var network = fetch(req).then(function (res) {
    if (storable(res)) {
      var copy = res.clone();
      caches.open(cacheName).then(function (c) { return c.put(key, copy); });
    }
    return res;
  });
  return Promise.race([network, timeout(NETWORK_TIMEOUT_MS)]).catch(function () {
    return caches.open(cacheName).then(function (c) { return c.match(key, { ignoreVary: true }); })
      .then(function (hit) {
        if (hit) { return markCopy(hit, isFragment(req)); }
        return network.catch(function () {
          if (isFragment(req)) {
            return new Response('<p class="alert alert-warn" role="alert">No network, and this part was not ' +
                                'saved on the phone yet.</p>', { status: 503, headers: { "Content-Type": "text/html" } });
          }
          return caches.match("/offline");
        });
      });
  });
}

// Cache pages for the ward (the PT's patients for today and their forms). Copies younger than
// WARM_MAX_AGE_MS are kept as they are, so opening a list does not re-render every linked page each time.
var WARM_MAX_AGE_MS = 10 * 60 * 1000;

function warm(urls) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      var key = new Request(new URL(u, self.location.origin).href);
      return cache.match(key, { ignoreVary: true }).then(function (hit) {
        var date = hit ? Date.parse(hit.headers.get("Date") || "") : NaN;
        if (hit && !isNaN(date) && Date.now() - date < WARM_MAX_AGE_MS) { return null; }
        return fetch(u, { credentials: "same-origin" }).then(function (res) {
          return storable(res) ? cache.put(key, res) : null;
        });
      }).catch(function () { return null; });
    }));
  });
}
