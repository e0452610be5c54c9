from __future__ import annotations

import json
import re
import shutil
import subprocess

from server.web.assets import asset, manifest


def test_service_worker_is_served_at_root_scope_and_never_cached_stale(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert '"/offline"' in response.get_data(as_text=True)


# Runs the served worker under Node in a stand-in for its global scope, and reports when it called skipWaiting():
# after installing, after other messages, after the page's SKIP_WAITING ("Reload to update").
WORKER_HARNESS = r"""
const fs = require("fs");
const handlers = {};
const calls = [];
const self = {
  addEventListener: (type, fn) => { handlers[type] = fn; },
  skipWaiting: () => { calls.push("skipWaiting"); return Promise.resolve(); },
  clients: { claim: () => Promise.resolve() },
  location: { origin: "http://localhost" },
  ITBOutbox: { flush: () => Promise.resolve() },
};
const caches = { open: () => Promise.resolve({ addAll: () => Promise.resolve(), put: () => Promise.resolve() }),
                 keys: () => Promise.resolve([]), delete: () => Promise.resolve(true),
                 match: () => Promise.resolve(undefined) };
const event = (data) => ({ data, waitUntil: () => {} });
new Function("self", "caches", "importScripts", fs.readFileSync(0, "utf8"))(self, caches, () => {});
const seen = {};
handlers.install(event());
seen.install = calls.length;
for (const type of ["CLAIM", "FLUSH", "WARM", "FORGET_PAGES", undefined]) {
  handlers.message(event({ type, urls: [] }));
}
seen.otherMessages = calls.length;
handlers.message(event({ type: "SKIP_WAITING" }));
seen.skipWaitingMessage = calls.length;
console.log(JSON.stringify(seen));
"""


def test_a_new_worker_takes_over_only_when_the_page_asks(client) -> None:  # type: ignore[no-untyped-def]
    """Installing never calls skipWaiting() (a new version never takes over a page mid-entry); only the page's
    SKIP_WAITING message does, once."""
    body = client.get("/sw.js").get_data(as_text=True)
    node = shutil.which("node")
    assert node is not None, "the JavaScript tests need Node.js (make js-test)"
    run = subprocess.run([node, "-e", WORKER_HARNESS], input=body, capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(run.stdout) == {"install": 0, "otherMessages": 0, "skipWaitingMessage": 1}


def test_service_worker_precaches_the_built_bundles_staff_pages_load(app, client) -> None:  # type: ignore[no-untyped-def]
    """The worker keeps this build's hashed files (and imports the same outbox-core file as the pages), never the
    parents' stylesheet; everything it lists is there to fetch."""
    body = client.get("/sw.js").get_data(as_text=True)
    shell = json.loads(re.search(r"var SHELL = (\[.*\]);", body).group(1))  # type: ignore[union-attr]
    bundles = json.loads(re.search(r"var BUNDLES = (\{.*\});", body).group(1))  # type: ignore[union-attr]
    with app.test_request_context():
        built = {name: asset(name) for name in manifest().files}
    assert bundles == {name: url for name, url in built.items() if name != "parents.css"}
    for name in ("theme.js", "htmx.js", "outbox-core.js", "common.js", "assessment.js", "outbox.js", "app.css"):
        stem, ext = name.rsplit(".", 1)
        assert re.fullmatch(rf"/static/dist/{stem}\.[0-9a-f]{{8}}\.{ext}", bundles[name]) and bundles[name] in shell
    assert built["parents.css"] not in shell
    assert {"/offline", "/manifest.webmanifest", "/static/icons/icon-192.png"} <= set(shell)
    assert f'importScripts("{built["outbox-core.js"]}")' in body
    for url in shell:
        assert client.get(url).status_code == 200, url


def test_manifest(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_offline_page_is_public_and_outbox_page_needs_sign_in(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/offline").status_code == 200
    assert client.get("/outbox").status_code == 303
    signed_in("pt")
    page = client.get("/outbox").get_data(as_text=True)
    assert 'id="outbox-list"' in page and "Export unsent entries as a file" in page


def test_the_pts_iphone_help_needs_sign_in_and_is_linked_from_today_and_the_outbox(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/help/iphone").status_code == 303
    signed_in("pt")
    page = client.get("/help/iphone").get_data(as_text=True)
    assert "Add to Home Screen" in page and "Nothing is sent while the app is closed" in page
    for path in ("/today", "/outbox"):
        assert 'href="/help/iphone"' in client.get(path).get_data(as_text=True), path
    outbox = client.get("/outbox").get_data(as_text=True)
    assert 'id="outbox-risk"' in outbox and 'id="outbox-storage"' in outbox and 'id="outbox-offline"' in outbox
