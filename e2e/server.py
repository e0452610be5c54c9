"""The app under test, in its own process group, served by gunicorn as in production (README "Production")."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_command(bind: str, workers: int, threads: int) -> list[str]:
    """The production server command (the Makefile's `run` uses the same options)."""
    return [sys.executable, "-m", "gunicorn", f"--bind={bind}", f"--workers={workers}", f"--threads={threads}",
            "--worker-class=gthread", "--graceful-timeout=5", "server:create_app()"]


class LiveServer:
    """Start, stop and kill the app. The port and database stay the same across restarts."""

    def __init__(self, database_url: str, instance_dir: Path, port: int | None = None, *, workers: int = 2,
                 threads: int = 4):
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "APP_ENV": "test",
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            "FLASK_INSTANCE_PATH": str(instance_dir),
            "PUBLIC_BASE_URL": self.url,  # links given out (a parent's) point here, never at the Host header
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = instance_dir / "server.log"

    def flask(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "flask", "--app", "server", *args], cwd=ROOT, env=self.env,
                             check=True, capture_output=True, text=True, timeout=120)
        return out.stdout

    def _port_in_use(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("the server is already running")
        deadline = time.monotonic() + 10
        while self._port_in_use():  # an earlier process still holds the port: never test against it
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.port} is still in use by another process")
            time.sleep(0.1)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(gunicorn_command(f"127.0.0.1:{self.port}", self.workers, self.threads),
                                     cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # its own process group: kill() takes the workers too
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200 and self.proc.poll() is None:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: the server dies mid-request, as in a crash."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._wait_port_free()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # gunicorn: graceful shutdown of the workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc:
            with contextlib.suppress(ProcessLookupError):  # no worker may outlive its master
                os.killpg(self.proc.pid, signal.SIGKILL)

    def _wait_port_free(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while self._port_in_use() and time.monotonic() < deadline:
            time.sleep(0.05)
