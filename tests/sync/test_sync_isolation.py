"""The sync package stays free of Flask and of server/ code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_sync_pulls_in_no_flask_and_no_server() -> None:
    code = (
        "import sys, sync\n"
        "banned = {'flask', 'server', 'sqlalchemy', 'werkzeug'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in banned)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_sync_sources_do_not_name_flask_or_server() -> None:
    for path in (ROOT / "sync").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                assert "flask" not in stripped.lower(), (path.name, line)
                assert not stripped.startswith(("from server", "import server")), (path.name, line)
