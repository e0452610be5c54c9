from __future__ import annotations

import json
import re

from server.web.assets import asset, manifest


def test_service_worker_is_served_at_root_scope_and_never_cached_stale(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert "skipWaiting()" in body and "SKIP_WAITING" in body  # only on the user's say-so


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
