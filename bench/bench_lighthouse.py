"""Lighthouse (mobile: a mid-range phone on slow 4G, simulated) on the pages a ward uses most: the PT's day
(`/today`), the PT's assessment form, the nurse's `/ward` and a parent's page (issue 18: performance at least 95,
accessibility 100 on each).

A LiveServer (gunicorn, fresh database, `flask db upgrade` and `flask demo-data`) and Debian's Chromium
(`CHROME_PATH`, default /usr/bin/chromium). Lighthouse itself is pinned in bench/lighthouse/package.json and
installed there by `npm ci` on the first run (about 110 MB; not part of the app or `make install`). Staff pages are
measured signed in: the session cookie goes with every request Lighthouse makes (`--extra-headers`). Each page is
measured `--runs` times (default 3) and the median score is reported; Lighthouse starts each run with an empty cache
and no service worker, so this is a first visit. The scores depend on the machine's load (the simulated throttling
scales what it measured): the `machine` field of each figure says what the load was.

    .venv/bin/python bench/bench_lighthouse.py [--runs 3] [--keep DIR]

One JSON object per figure on stdout (bench/_common.py:emit); Lighthouse's own output on stderr with --verbose.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Browserish, Failures, demo_form_path, demo_live_server, emit, machine, make_app, note

HERE = Path(__file__).resolve().parent / "lighthouse"
LIGHTHOUSE = HERE / "node_modules/lighthouse/cli/index.js"
CHROME_PATH = os.environ.get("CHROME_PATH") or os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-pass"
BUDGET = {"performance": 95, "accessibility": 100}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"


def install() -> None:
    """Lighthouse from the npm registry, at the version the lock file pins (once; kept in bench/lighthouse)."""
    if LIGHTHOUSE.exists():
        return
    note("Installing Lighthouse (bench/lighthouse: npm ci)…")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def parent_link(database_url: str) -> str:
    """A parent's link for the demo child on day 1 (DEMO-1001), made through the app's own service."""
    from sqlalchemy import select

    from server.audit.context import Actor, acting_as
    from server.auth.models import User
    from server.extensions import db
    from server.parents.services import create_link
    from server.trials.models import Patient, Trial

    app = make_app(database_url)
    with app.app_context(), acting_as(Actor(user_id=None, via="cli")):
        surgeon = db.session.scalar(select(User.id).where(User.username == "surgeon"))
        trial = db.session.scalar(select(Trial.id).join(Patient).where(Patient.mrn == "DEMO-1001"))
        assert surgeon is not None and trial is not None, "the demo data has a surgeon and DEMO-1001"
        link = create_link(trial, {"label": "Mum", "expires_in_days": 7}, author_id=surgeon)
        db.session.commit()
        return f"/p/{link.token}?lang=en"


def cookie_of(port: int, username: str) -> str:
    client = Browserish(port)
    client.sign_in(username, DEMO_PASSWORD)
    client.close()
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def lighthouse(url: str, cookie: str | None, out: Path, verbose: bool, tries: int = 3) -> dict[str, Any]:
    """One Lighthouse run. A run whose trace Lighthouse could not record (its "Runtime error … Please run Lighthouse
    again", e.g. NO_NAVSTART on a loaded machine) is run again, up to `tries` times."""
    cmd = ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility", "--form-factor=mobile", f"--chrome-flags={CHROME_FLAGS}"]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    for attempt in range(1, tries + 1):
        result = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": CHROME_PATH}, capture_output=True, text=True,
                                timeout=300)
        if verbose or result.returncode:
            note(result.stderr[-4000:])
        if result.returncode == 0:
            return dict(json.loads(out.read_text()))
        if "Please run Lighthouse again" not in result.stderr or attempt == tries:
            break
        note(f"{url}: Lighthouse asks to be run again (try {attempt + 1} of {tries})")
    raise RuntimeError(f"lighthouse exited {result.returncode} on {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (the median is reported)")
    parser.add_argument("--keep", type=Path, help="keep Lighthouse's JSON reports in this folder")
    parser.add_argument("--verbose", action="store_true", help="Lighthouse's own log on stderr")
    opts = parser.parse_args()
    note(f"machine at start: {machine()}")
    if not Path(CHROME_PATH).exists():
        sys.exit(f"Chromium not found at {CHROME_PATH}: install Debian's chromium or set CHROME_PATH.")
    install()
    failures = Failures()
    with demo_live_server() as (server, url):
        pages = [("today", "/today", "pt"), ("assessment_form", demo_form_path(url), "pt"), ("ward", "/ward", "nurse"),
                 ("parent_page", parent_link(url), None)]
        with tempfile.TemporaryDirectory(prefix="itb-lighthouse-") as tmp:
            reports = Path(opts.keep or tmp)
            reports.mkdir(parents=True, exist_ok=True)
            for name, path, user in pages:
                scores: dict[str, list[float]] = {"performance": [], "accessibility": []}
                audits: dict[str, list[float]] = {"total-blocking-time": [], "total-byte-weight": [], "dom-size": [],
                                                  "largest-contentful-paint": []}
                for run in range(opts.runs):
                    cookie = cookie_of(server.port, user) if user else None  # a fresh sign-in per run
                    result = lighthouse(server.url + path, cookie, reports / f"{name}-{run + 1}.json", opts.verbose)
                    final = result.get("finalDisplayedUrl") or result.get("finalUrl", "")
                    failures.check("/login" not in final, f"{name}: Lighthouse was sent to the sign-in page")
                    for category in scores:
                        scores[category].append(round(100 * (result["categories"][category]["score"] or 0)))
                    for audit in audits:
                        audits[audit].append(result["audits"][audit]["numericValue"])
                    failed = [a["id"] for a in result["audits"].values()
                              if a["id"] in _accessibility_audits(result) and a.get("score") == 0]
                    if failed:
                        note(f"{name} run {run + 1}: accessibility audits failed: {', '.join(failed)}")
                for category, values in scores.items():
                    emit(f"lighthouse.{category}[{name}]", statistics.median(values), "score",
                           f">= {BUDGET[category]}")
                for audit, (figure, unit) in {"total-blocking-time": ("total_blocking_time", "ms"),
                                              "largest-contentful-paint": ("largest_contentful_paint", "ms"),
                                              "total-byte-weight": ("total_byte_weight", "bytes"),
                                              "dom-size": ("dom_size", "elements")}.items():
                    emit(f"lighthouse.{figure}[{name}]", round(statistics.median(audits[audit])), unit)
                note(f"{name}: performance {scores['performance']}, accessibility {scores['accessibility']}")
    failures.exit()


def _accessibility_audits(result: dict[str, Any]) -> set[str]:
    return {ref["id"] for ref in result["categories"]["accessibility"]["auditRefs"]}


if __name__ == "__main__":
    main()
