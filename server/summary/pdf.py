"""The summary page as a PDF, made on the server by WeasyPrint from the page's own HTML and print styles.

WeasyPrint reads only this app's static files, from disk: the PDF fetches nothing over the network (no font, no
stylesheet from elsewhere). Its fonts are Debian's (fonts-dejavu-core, named by the print styles) through
fontconfig; `make pdf-deps` installs them with pango and harfbuzz-subset.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.security import safe_join

# WeasyPrint warns of every rule of the app's screen styles it does not know (media queries by width, sticky...):
# the print styles are written for it, so only its errors are worth a log line.
logging.getLogger("weasyprint").setLevel(logging.ERROR)

PAPERS = {"a4": "A4", "letter": "letter"}  # the ?paper= choices and their CSS page size


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static = Path(current_app.static_folder or "")
    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    class StaticFiles(URLFetcher):
        """Answers with the app's static files read from disk; refuses every other address."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            path = unquote(urlsplit(url).path)
            if not path.startswith(prefix):
                raise ValueError(f"not one of the app's static files: {url}")
            found = safe_join(str(static), path[len(prefix):])
            if found is None or not Path(found).is_file():
                raise ValueError(f"no such static file: {path}")
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=Path(found).read_bytes(), headers={"Content-Type": kind})

    return StaticFiles()


def html_to_pdf(html: str, base_url: str, paper: str) -> bytes:
    """`html` (a page of this app) printed on `paper` ("a4" or "letter")."""
    from weasyprint import CSS, HTML

    size = CSS(string=f"@page {{ size: {PAPERS[paper]}; }}")
    return HTML(string=html, base_url=base_url, url_fetcher=_fetcher()).write_pdf(stylesheets=[size])
