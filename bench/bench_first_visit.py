"""Bytes over the wire for a first visit to the PT assessment page, and for a repeat visit (issue 18: at most
40 KB compressed for the first visit with every asset; 0 network bytes for static assets on a repeat visit),
and the number of elements on the form as the phone draws it.

A real Chromium (Debian's, the e2e tests' arguments and phone viewport) opens the assessment form of a demo
child (Amira, trial day 1 baseline) on a LiveServer (gunicorn, fresh database, `flask db upgrade` and
`flask demo-data`). The browser talks to the server through a small byte-counting proxy in this script, so
every byte is counted exactly as it crossed the socket (status line, headers and compressed body), whoever
asked for it: the page, or the service worker installing itself and precaching the app shell.

The sign-in goes through the same browser context's request API before the visit, so the first visit starts
with an empty HTTP cache and no service worker, as a phone that just signed in. Two runs: Chromium's own
Accept-Encoding (it offers zstd, which flask-compress prefers), and `Accept-Encoding: gzip, br` (what a
browser without zstd, e.g. Safari, gets).

    .venv/bin/python bench/bench_first_visit.py [--verbose]

Prints one JSON object per figure on stdout (bench/_common.py:emit); --verbose lists every request on stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Failures, chromium_settings, demo_form_path, demo_live_server, emit, machine, note
from e2e.server import free_port

BUDGET_KB = 40
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-pass"


# ---- a byte-counting HTTP/1.1 proxy ------------------------------------------------------------------------


@dataclass
class Exchange:
    at: float  # when the request went out
    method: str
    path: str
    status: int
    wire_bytes: int  # status line + headers + body, as sent by the server
    body_bytes: int
    encoding: str


@dataclass
class _Conn:
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, method, path), in order
    down: bytearray = field(default_factory=bytearray)  # server -> browser, every byte


class CountingProxy:
    """Relays 127.0.0.1:<port> to the app, keeps every byte the server sends and, when `accept_encoding` is
    given, sets that Accept-Encoding on every request (the page's and the service worker's alike, so the
    browser's caches, keyed on its own request headers, behave as they would with that browser)."""

    def __init__(self, target_port: int, accept_encoding: str | None = None) -> None:
        self.target_port = target_port
        self.accept_encoding = accept_encoding
        self.port = free_port()
        self.conns: list[_Conn] = []
        self.lock = threading.Lock()
        self.last_activity = time.monotonic()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            conn = _Conn()
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._upstream, args=(client, server, conn), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, conn), daemon=True).start()

    def _rewrite(self, head: bytes) -> tuple[bytes, str, str, int]:
        lines = head.decode("latin-1").split("\r\n")
        method, path = [*lines[0].split(" "), "", ""][:2]
        length = 0
        out = [lines[0]]
        for line in lines[1:]:
            name = line.partition(":")[0].strip().lower()
            if name == "content-length":
                length = int(line.partition(":")[2].strip() or 0)
            if name == "accept-encoding" and self.accept_encoding is not None:
                line = f"Accept-Encoding: {self.accept_encoding}"
            out.append(line)
        return "\r\n".join(out).encode("latin-1"), method, path, length

    def _upstream(self, src: socket.socket, dst: socket.socket, conn: _Conn) -> None:
        buf, body_left = b"", 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                out = b""
                while buf:
                    if body_left:
                        take = buf[:body_left]
                        out, buf, body_left = out + take, buf[len(take) :], body_left - len(take)
                        continue
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head, method, path, body_left = self._rewrite(buf[: end + 4])
                    buf = buf[end + 4 :]
                    with self.lock:
                        conn.requests.append((time.monotonic(), method, path))
                        self.last_activity = time.monotonic()
                    out += head
                if out:
                    dst.sendall(out)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def _downstream(self, src: socket.socket, dst: socket.socket, conn: _Conn) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    conn.down.extend(data)
                    self.last_activity = time.monotonic()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def mark(self) -> None:
        """Forget what was exchanged so far (keep-alive connections stay open). Call when the network is quiet."""
        with self.lock:
            for c in self.conns:
                c.requests.clear()
                c.down.clear()

    def wait_quiet(self, quiet: float = 1.0, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_activity >= quiet:
                return
            time.sleep(0.05)

    def exchanges(self) -> list[Exchange]:
        """Every request since the last mark, with its response, in the order the requests went out."""
        with self.lock:
            snapshot = [(list(c.requests), bytes(c.down)) for c in self.conns]
        out: list[Exchange] = []
        for requests, down in snapshot:
            pos = 0
            for at, method, path in requests:
                if pos >= len(down):
                    break
                status, headers, head_len, body_len = _parse_response(down, pos, method)
                out.append(
                    Exchange(
                        at,
                        method,
                        path,
                        status,
                        head_len + body_len,
                        body_len,
                        headers.get("content-encoding", "identity"),
                    )
                )
                pos += head_len + body_len
        return sorted(out, key=lambda e: e.at)

    def close(self) -> None:
        self.sock.close()


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)


def _headers(block: bytes) -> tuple[str, dict[str, str]]:
    lines = block.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _parse_response(data: bytes, pos: int, method: str) -> tuple[int, dict[str, str], int, int]:
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        return 0, {}, len(data) - pos, 0
    first, headers = _headers(data[pos:end])
    status = int(first.split(" ")[1])
    head_len = end + 4 - pos
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, headers, head_len, 0
    if "content-length" in headers:
        return status, headers, head_len, int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        p = end + 4
        while True:
            line_end = data.find(b"\r\n", p)
            if line_end < 0:
                break
            size = int(data[p:line_end].split(b";")[0], 16)
            p = line_end + 2 + size + 2
            if size == 0:
                break
        return status, headers, head_len, p - (end + 4)
    return status, headers, head_len, len(data) - (end + 4)  # until the connection closed


# ---- the visits --------------------------------------------------------------------------------------------


def _poll(page: Any, js: str, timeout: float = 20.0) -> None:
    """page.evaluate goes through the DevTools protocol, which the app's CSP (no eval) allows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(js):
            return
        time.sleep(0.05)
    raise TimeoutError(js)


_REFERENCE = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"#?]+)', re.IGNORECASE)


def visit(
    browser: Any,
    server_port: int,
    path: str,
    accept_encoding: str | None,
    failures: Failures,
    tag: str,
    verbose: bool,
    count_dom: bool = False,
) -> None:
    """One first visit and one repeat visit; prints their figures, named with `tag` (the Accept-Encoding)."""
    label = f"[{tag}]"
    _, phone = chromium_settings()
    proxy = CountingProxy(server_port, accept_encoding)
    ctx = browser.new_context(base_url=f"http://127.0.0.1:{proxy.port}", service_workers="allow", **phone)
    try:
        login = ctx.request.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text())
        res = ctx.request.post(
            "/login",
            form={"username": "pt", "password": DEMO_PASSWORD, "csrf_token": token.group(1) if token else ""},
            max_redirects=0,
        )
        failures.check(res.status == 303, f"{label}: sign-in answered {res.status}")
        proxy.wait_quiet(0.3)
        proxy.mark()

        page = ctx.new_page()
        t0 = time.perf_counter()
        response = page.goto(path, wait_until="load")
        load_s = time.perf_counter() - t0
        ok = response is not None and response.status == 200
        failures.check(ok, f"{label}: the form answered {response.status if response else None}")
        html = response.text() if response is not None else ""
        # Elements on the page as the phone draws it (390 x 844), once the scripts have run.
        dom_nodes = page.evaluate("document.querySelectorAll('*').length") if count_dom else None
        _poll(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
        _poll(page, "() => caches.keys().then(k => k.some(n => n.indexOf('itb-shell-') === 0))")
        proxy.wait_quiet(1.0)
        first = proxy.exchanges()
        page.close()

        proxy.mark()
        page = ctx.new_page()
        page.goto(path, wait_until="load")
        proxy.wait_quiet(1.0)
        repeat = proxy.exchanges()
        page.close()
    finally:
        ctx.close()
        proxy.close()

    # The page and every asset it references (stylesheet, scripts, icon, manifest), each counted once, at its
    # first full (200) download, whoever asked for it: the page, or the worker precaching it.
    referenced = [path, *dict.fromkeys(u for u in _REFERENCE.findall(html) if u.startswith("/"))]
    counted: list[Exchange] = []
    for url in referenced:
        hit = next((e for e in first if e.path.split("?")[0] == url and e.status == 200), None)
        if failures.check(hit is not None, f"{label}: {url} (referenced by the page) was never downloaded"):
            counted.append(hit)  # type: ignore[arg-type]
    page_wire = sum(e.wire_bytes for e in counted)
    page_body = sum(e.body_bytes for e in counted)
    all_wire = sum(e.wire_bytes for e in first)
    others = [e for e in first if not any(e is c for c in counted)]
    statics_again = [e for e in repeat if e.path.startswith("/static/")]
    encodings = sorted({e.encoding for e in counted if e.encoding != "identity"})
    if verbose:
        note(f"\n{label}: first visit, every exchange (wire bytes, body bytes, encoding)")
        for e in first:
            mark = "page+assets" if any(e is c for c in counted) else ""
            note(f"  {e.method:4} {e.path[:56]:56} {e.status} {e.wire_bytes:7} {e.body_bytes:7} {e.encoding:8} {mark}")
        note(f"{label}: repeat visit")
        for e in repeat:
            note(f"  {e.method:4} {e.path[:56]:56} {e.status} {e.wire_bytes:7} {e.body_bytes:7} {e.encoding}")
    for e in first + repeat:
        failures.check(e.status < 400, f"{label}: {e.method} {e.path} answered {e.status}")
    failures.check(len(counted) == len(referenced), f"{label}: not every referenced asset was counted")
    note(
        f"{label}: the page and {len(counted) - 1} referenced assets "
        f"({', '.join(u.rsplit('/', 1)[-1] for u in referenced[1:])}), encodings {', '.join(encodings) or 'none'}; "
        f"the service worker's own {len(others)} requests (sw.js, its precache, /offline, /outbox, page warm-up) "
        f"are counted in first_visit.all_bytes only"
    )
    emit(f"first_visit.page_and_assets.wire_bytes[{tag}]", page_wire, "bytes", f"<= {BUDGET_KB * 1024}")
    emit(f"first_visit.page_and_assets.body_bytes[{tag}]", page_body, "bytes")
    emit(f"first_visit.all_bytes[{tag}]", all_wire, "bytes")
    emit(f"first_visit.load_event[{tag}]", round(load_s, 3), "s")
    emit(f"repeat_visit.static_requests[{tag}]", len(statics_again), "requests", "<= 0")
    emit(f"repeat_visit.static_bytes[{tag}]", sum(e.wire_bytes for e in statics_again), "bytes", "<= 0")
    emit(
        f"repeat_visit.page_bytes[{tag}]",
        sum(e.wire_bytes for e in repeat if not e.path.startswith("/static/")),
        "bytes",
    )
    if dom_nodes is not None:
        emit("assessment_form.dom_nodes", dom_nodes, "elements")


def main() -> None:
    import argparse

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list every request and its bytes")
    opts = parser.parse_args()
    note(f"machine at start: {machine()}")
    if not Path(CHROMIUM_PATH).exists():
        sys.exit(f"Chromium not found at {CHROMIUM_PATH}: install Debian's chromium or set CHROMIUM_PATH.")
    failures = Failures()
    with demo_live_server() as (server, url):
        path = demo_form_path(url)
        args, _ = chromium_settings()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=args)
            try:
                note(f"First and repeat visit to the PT assessment form ({path}), bytes counted on the socket")
                visit(browser, server.port, path, "gzip, br", failures, "gzip-br", opts.verbose, count_dom=True)
                visit(browser, server.port, path, None, failures, "chromium", opts.verbose)
            finally:
                browser.close()
    failures.exit()


if __name__ == "__main__":
    main()
