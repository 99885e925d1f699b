"""A private PostgreSQL cluster and a gunicorn of one benchmark run (benchmarks/faults.py).

The cluster lives in a temporary directory on a free port (initdb refuses root, so it runs
as `postgres` then): it can be restarted, crashed and removed without touching the
machine's shared PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from benchmarks.docs_section import health_wait

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DBNAME = "vigil_faults"


def say(message: str) -> None:
    print(f"[{datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    """A throwaway PostgreSQL cluster of this run only."""

    def __init__(self) -> None:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
        if not bindirs:
            raise SystemExit("No /usr/lib/postgresql/*/bin (initdb, pg_ctl) on this machine.")
        self.bin = Path(bindirs[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="vigil-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.dir, user="postgres", group="postgres")

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        # Output to a file, not a pipe: a server started by pg_ctl keeps its stdout open.
        with (self.dir / "pg_ctl.out").open("a") as out:
            subprocess.run(argv, check=True, stdout=out, stderr=subprocess.STDOUT)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DBNAME}"')

    def restart(self, mode: str) -> float:
        began = time.monotonic()
        log = str(self.dir / "log")
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-l", log, "-w", "restart")
        return time.monotonic() - began

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, dbname: str = DBNAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def version(self) -> str:
        with psycopg.connect(self.url()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def start_gunicorn(env: dict[str, str], access_log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with its error log (the 503s' tracebacks) next to the access log."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "core.wsgi:application",
            "--workers=2",
            "--threads=4",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            f"--access-logfile={access_log}",
            "--access-logformat=%(s)s",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=access_log.with_name("web.log").open("ab"),
    )
    url = f"http://127.0.0.1:{port}"
    if health_wait(url, timeout_s=60):
        return process, url
    process.terminate()
    raise SystemExit("gunicorn did not start")
