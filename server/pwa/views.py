from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import current_app, make_response, render_template, url_for

from ..auth.decorators import STAFF, roles_required
from ..web.htmx import render
from . import bp

STATIC_SHELL = ("css/app.css", "vendor/htmx.min.js", "js/app.js", "js/outbox-core.js", "js/outbox-ui.js",
                "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png")


def _optional_static() -> list[str]:
    """Feature scripts that exist (e.g. js/draft.js) are precached too."""
    static = Path(current_app.static_folder or "")
    return sorted(str(p.relative_to(static)) for p in (static / "js").glob("*.js")
                  if str(p.relative_to(static)) not in STATIC_SHELL)


@cache
def _shell_version(root: str, release: str) -> str:
    """Changes whenever a precached file, the worker itself or APP_RELEASE changes, so phones update."""
    digest = hashlib.sha256(release.encode())
    static = Path(root) / "static"
    for rel in sorted(set(STATIC_SHELL) | {str(p.relative_to(static)) for p in (static / "js").glob("*.js")}):
        path = static / rel
        if path.exists():
            digest.update(rel.encode() + path.read_bytes())
    digest.update((Path(root) / "templates/pwa/sw.js").read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    shell = [url_for("static", filename=f) for f in (*STATIC_SHELL, *_optional_static())]
    body = render_template("pwa/sw.js", version=_shell_version(current_app.root_path,
                                                                    current_app.config["APP_RELEASE"]),
                           shell_json=json.dumps([*shell, url_for("pwa.offline"),
                                                  url_for("pwa.manifest")]))
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
