"""Built JavaScript and CSS (server/web/assets.py, build-assets.mjs): pages name the content-hashed bundles from
the manifest, only the ones they need; the bundles are served immutable, precompressed; everything else under
/static/ keeps its revalidated caching."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from server.web.assets import IMMUTABLE, AssetsMissing, asset, manifest
from tests.conftest import bundles_in
from tests.web.crawl import build_world, pages

HX_ATTRIBUTE = re.compile(r"\shx-[a-z-]+=")  # as base.html tests it: any hx-* attribute in the content


def test_pages_name_hashed_bundles_from_the_manifest(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/login").get_data(as_text=True)
    assert bundles_in(html) == ["theme.js", "app.css", "htmx.js", "outbox-core.js", "common.js"]
    with app.test_request_context():
        for name in ("theme.js", "app.css", "common.js"):
            stem, ext = name.rsplit(".", 1)
            url = asset(name)
            assert re.fullmatch(rf"/static/dist/{stem}\.[0-9a-f]{{8}}\.{ext}", url)
            assert f'"{url}"' in html
    signed_in("pt")
    outbox = client.get("/outbox").get_data(as_text=True)
    assert bundles_in(outbox) == ["theme.js", "app.css", "outbox-core.js", "common.js", "outbox.js"]


@pytest.mark.parametrize(("accept", "encoding"), [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"),
                                                   ("identity", None)])
def test_bundles_are_served_immutable_and_precompressed(app, client, accept, encoding) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        built = manifest()
        urls = {name: asset(name) for name in ("common.js", "app.css")}
    for name, url in urls.items():
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        assert response.headers.get("Content-Encoding") == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.mimetype == ("text/javascript" if name.endswith(".js") else "text/css")
        body = response.get_data()
        plain = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body)
        assert plain == (built.folder / built.files[name]).read_bytes()
        assert "Set-Cookie" not in response.headers
        again = client.get(url, headers={"Accept-Encoding": accept, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""  # a revalidation costs no body


def test_only_this_builds_files_are_served_from_dist(app, client) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        common = asset("common.js")
    assert client.get(re.sub(r"\.[0-9a-f]{8}\.", ".00000000.", common)).status_code == 404
    assert client.get("/static/dist/manifest.json").status_code == 404
    assert client.get(common + ".br").status_code == 404
    assert client.get("/static/dist/../css/app.css").status_code == 404


def test_other_static_files_keep_their_revalidated_caching(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/static/icons/icon.svg", "/static/icons/icon-192.png"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache" and response.headers.get("ETag")
        assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_a_missing_build_says_how_to_make_it(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app.static_folder = str(tmp_path)
    with app.test_request_context(), pytest.raises(AssetsMissing, match="make assets"):
        asset("common.js")


def test_every_page_loads_built_bundles_only_and_htmx_only_where_it_is_used(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    """Every GET page as every role: each script and stylesheet is a built bundle (bundles_in); a staff page loads
    htmx exactly when it has an hx-* attribute (base.html); the parents' pages load no script at all."""
    w = build_world(app, make_user, make_trial)
    light = set()
    checked = 0
    for role, path, response in pages(app, w):
        if response.status_code != 200 or response.mimetype != "text/html" or b"<html" not in response.data:
            continue  # (a fragment alone, e.g. the dose override's confirmation as the surgeon types)
        html = response.get_data(as_text=True)
        names = bundles_in(html)
        checked += 1
        if path.startswith("/p/"):
            assert names == ["parents.css"], path
            continue
        uses_htmx = bool(HX_ATTRIBUTE.search(html[html.index("<main") : html.rindex("</main>")]))
        assert ("htmx.js" in names) == uses_htmx, f"{path} as {role}: hx-* attributes {uses_htmx}, loads {names}"
        frame = ["theme.js", "app.css", *(["htmx.js"] if uses_htmx else []), "outbox-core.js", "common.js"]
        assert names[: len(frame)] == frame, f"{path} as {role}: {names}"
        if not uses_htmx:
            light.add(path.split("/")[1])
    assert checked > 50
    assert {"today", "outbox", "offline", "assessments"} <= light  # the PT's day and the offline pages stay light
