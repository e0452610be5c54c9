"""gunicorn settings, read by gunicorn itself when it starts in this folder (its default `-c ./gunicorn.conf.py`;
elsewhere pass `-c /path/to/gunicorn.conf.py`). The command line (`make run`, README "Production") still says
how many workers and threads.

Each worker freezes the objects it holds once the app is loaded (`post_worker_init`): Python's cyclic garbage
collector then never scans the tens of thousands of long-lived objects of the app and its libraries again, only
what requests make. In a sync batch of 100 assessments its full collections cost about as much as the audit
rows did (bench/README.md, "Ingest").

gunicorn writes `Server: gunicorn` into every answer and has no setting to leave it out; naming the server
software only helps someone looking for a known flaw. This removes that one header line from the headers
gunicorn writes itself (patched in the master, so every worker it forks has it too).
"""

import gc

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self):  # type: ignore[no-untyped-def]
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header


def post_worker_init(_worker):  # type: ignore[no-untyped-def]
    gc.freeze()
