"""The one way to answer with a page or its fragment, and to redirect, for htmx and plain requests."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template
from werkzeug.wrappers import Response as ResponseBase

from ..extensions import htmx
from .redirects import header_safe


def wants_fragment() -> bool:
    """True for htmx requests that swap part of a page (boosted requests get whole pages)."""
    return bool(htmx) and not htmx.boosted


def render(page: str, fragment: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render `fragment` for htmx requests and `page` otherwise; always `Vary: HX-Request`."""
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str) -> ResponseBase:
    """303 for plain forms; for htmx an `HX-Redirect` so the browser loads the whole page. `url` is a URL this
    app made or one `web.redirects.safe_next` let through; it is made fit for a header either way."""
    url = header_safe(url)
    response: ResponseBase
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, code=303)
    response.vary.add("HX-Request")
    return response
