from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import current_app, make_response, render_template, url_for

from ..auth.decorators import STAFF, roles_required
from ..web import assets
from ..web.htmx import render
from . import bp

# What the service worker keeps for working with no network: every built bundle (web/assets.py) but the parents'
# stylesheet (their pages are never kept on a phone), the icons, the offline page and the web app manifest.
ICONS = ("icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png")
NOT_PRECACHED = frozenset({"parents.css"})


@cache
def _shell_version(root: str, release: str, built: tuple[tuple[str, str], ...]) -> str:
    """Changes whenever a bundle (its name holds its content's hash), an icon, the worker itself or APP_RELEASE
    changes, so phones update."""
    digest = hashlib.sha256(release.encode())
    for name, file in built:
        digest.update(f"{name}={file};".encode())
    for rel in ICONS:
        digest.update(rel.encode() + (Path(root) / "static" / rel).read_bytes())
    digest.update((Path(root) / "templates/pwa/sw.js").read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    built = assets.manifest()
    bundles = {name: built.url(name) for name in sorted(built.files) if name not in NOT_PRECACHED}
    shell = [*bundles.values(), *(url_for("static", filename=f) for f in ICONS),
             url_for("pwa.offline"), url_for("pwa.manifest")]
    version = _shell_version(current_app.root_path, current_app.config["APP_RELEASE"],
                             tuple(sorted(built.files.items())))
    body = render_template("pwa/sw.js", version=version, shell_json=json.dumps(shell),
                           bundles_json=json.dumps(bundles))
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    body = {
        "name": "ITB trial", "short_name": "ITB trial", "start_url": "/", "scope": "/",
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#14324f",
        "icons": [{"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192",
                   "type": "image/png"},
                  {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512",
                   "type": "image/png"},
                  {"src": url_for("static", filename="icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = make_response(json.dumps(body))
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline():
    return render("pwa/offline.html")


@bp.get("/help/iphone")
@roles_required(*STAFF)
def iphone():
    """The PT's help for an iPhone (Safari's WebKit): what differs and what to do (docs/ios.md)."""
    return render("pwa/iphone.html")


@bp.get("/outbox")
@roles_required(*STAFF)
def outbox():
    return render("pwa/outbox.html")
