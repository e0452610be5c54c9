"""gunicorn settings, read by gunicorn itself when it starts in this folder (its default `-c ./gunicorn.conf.py`;
elsewhere pass `-c /path/to/gunicorn.conf.py`). The command line (`make run`, README "Production") still says
how many workers and threads.

gunicorn writes `Server: gunicorn` into every answer and has no setting to leave it out; naming the server
software only helps someone looking for a known flaw. This removes that one header line from the headers
gunicorn writes itself (patched in the master, so every worker it forks has it too).
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self):  # type: ignore[no-untyped-def]
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header
