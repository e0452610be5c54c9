"""Our built JavaScript and CSS (server/static/dist, made by `make assets`: build-assets.mjs with esbuild).

Each bundle is named by its content (`common.3f2a9c1e.js`); `dist/manifest.json` maps the logical name to that
file. Templates ask for `asset('common.js')` and get its URL; the files are served here, immutable (a new
content is a new name, so a browser never asks again), as the brotli or gzip copy the build made when the
browser accepts it. Everything else under /static/ (icons, the sources) keeps Flask's revalidated caching.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, url_for

DIST = "dist"  # under the static folder
IMMUTABLE = "public, max-age=31536000, immutable"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first; the build writes both where they are smaller


class AssetsMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Manifest:
    folder: Path
    files: dict[str, str]  # logical name -> hashed file name

    def url(self, name: str) -> str:
        try:
            return url_for("assets", filename=self.files[name])
        except KeyError:
            raise AssetsMissing(f"No bundle {name!r} in {self.folder / 'manifest.json'} (build-assets.mjs)") from None


@cache
def _read(path: Path, mtime_ns: int) -> Manifest:
    return Manifest(path.parent, json.loads(path.read_text(encoding="utf-8")))


def manifest() -> Manifest:
    """The current build's manifest (read again when `make assets` has rebuilt, so a running server follows)."""
    path = Path(current_app.static_folder or "") / DIST / "manifest.json"
    try:
        return _read(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise AssetsMissing(f"{path} is missing: build the JavaScript and CSS with `make assets`.") from None


def asset(name: str) -> str:
    """URL of a built bundle, e.g. asset('common.js') -> /static/dist/common.3f2a9c1e.js (a template global)."""
    return manifest().url(name)


def serve(filename: str) -> Response:
    built = manifest()
    if filename not in built.files.values():
        abort(404)
    path = built.folder / filename
    body, encoding = path, None
    for name, suffix in ENCODINGS:
        variant = path.with_name(path.name + suffix)
        if request.accept_encodings[name] > 0 and variant.exists():
            body, encoding = variant, name
            break
    response = current_app.response_class(body.read_bytes(), mimetype=mimetypes.guess_type(filename)[0])
    if encoding:
        response.headers["Content-Encoding"] = encoding  # flask-compress leaves an encoded response alone
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = IMMUTABLE
    # A validator all the same: Chromium revalidates what a service worker fetches while it installs (its
    # precache and importScripts), even fresh copies; with an ETag that costs a 304, not the file again.
    response.set_etag(f"{filename}:{encoding or 'identity'}")
    response.make_conditional(request)  # 304 (no body) when If-None-Match names this ETag
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["asset"] = asset
    # More specific than Flask's /static/<path:filename>, so it wins for /static/dist/.
    app.add_url_rule(f"{app.static_url_path}/{DIST}/<path:filename>", "assets", serve)
