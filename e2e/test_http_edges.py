"""Issue 11, findings 3 and 8, through gunicorn as in production (no browser): the answers' headers.

* A `next` holding characters outside Latin-1 used to make gunicorn drop the connection (a header it cannot
  encode); now the answer comes, with the target percent-encoded, plain and with htmx.
* No `Server: gunicorn` header (gunicorn.conf.py, which gunicorn reads from the folder it starts in).
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import quote, urlencode

from e2e.conftest import DEMO_PASSWORD
from e2e.server import LiveServer


def _request(server: LiveServer, method: str, path: str, body: str | None = None,
             headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _session(server: LiveServer) -> tuple[str, str]:
    """A fresh anonymous session: its cookie and the sign-in form's CSRF token."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert cookie and match
    return cookie, match.group(1)


def test_no_server_header_on_any_answer(live_server: LiveServer) -> None:
    for path in ("/healthz", "/login", "/static/css/app.css", "/no-such-page"):
        response = _request(live_server, "GET", path)
        assert response.getheader("Server") is None, (path, response.getheaders())


def test_a_next_outside_latin1_gets_an_answer_not_a_dropped_connection(live_server: LiveServer) -> None:
    target = "/trials?q=\u20ac\u4e2d"
    for htmx in (False, True):
        cookie, token = _session(live_server)
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers["HX-Request"] = "true"
        body = urlencode({"username": "surgeon", "password": DEMO_PASSWORD, "csrf_token": token})
        response = _request(live_server, "POST", "/login?next=" + quote(target), body=body, headers=headers)
        assert response.status == (204 if htmx else 303)
        where = response.getheader("HX-Redirect" if htmx else "Location")
        assert where == "/trials?q=%E2%82%AC%E4%B8%AD"


def test_a_backslash_next_never_leaves_the_site(live_server: LiveServer) -> None:
    cookie, token = _session(live_server)
    body = urlencode({"username": "nurse", "password": DEMO_PASSWORD, "csrf_token": token})
    response = _request(live_server, "POST", "/login?next=/%5Cevil.example", body=body,
                        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                                 "HX-Request": "true"})
    assert response.status == 204 and response.getheader("HX-Redirect") == "/ward"
