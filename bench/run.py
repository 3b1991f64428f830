"""`make bench`: run every `bench/bench_*.py` module against a database of its own.

    .venv/bin/python scripts/stack.py exec -- .venv/bin/python bench/run.py [--only NAME[,NAME]] [--list]
        [--database NAME] [--skip-bootstrap] [module options…]

Each module exposes `main(argv) -> int`; options this runner does not know are passed to
every module it runs (so `--only foundation --runs 3` gives `--runs 3` to bench_foundation).
NAME is the part after `bench_` (`foundation`, `leads`, `followups`).

The benchmarks never touch the developer's data: they run in `<database>_bench` (for the
default DATABASE_URL that is `salesflow_bench`), created when missing and brought up to
date with `manage.py bootstrap --no-demo`. `BENCH_DATABASE_URL` overrides the whole URL.
Results land in bench/results/<name>-<UTC time>.json: the arguments, exit code, wall time,
the machine, every figure the module passed to `bench.support.record`, and its output.
"""
import argparse
import contextlib
import datetime as dt
import importlib
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"


def discover() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def bench_database_url(base_url: str, override_name: str | None) -> str:
    if override_name:
        return _with_database(base_url, override_name)
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    current = urlsplit(base_url).path.lstrip("/") or "salesflow"
    return _with_database(base_url, f"{current}_bench")


def database_ensure(url: str) -> bool:
    """Create the benchmark database when it does not exist; True when it was created."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin_url = _with_database(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


class _Tee(io.TextIOBase):
    """Writes through to the terminal and keeps a copy for the results file."""

    def __init__(self, stream):
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text):
        self.stream.write(text)
        self.stream.flush()
        return self.copy.write(text)

    def flush(self):
        self.stream.flush()


def _parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=True)
    parser.add_argument("--only", default="", help="comma-separated module names (after bench_)")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    parser.add_argument("--database", default=None, help="benchmark database name (default: <current>_bench)")
    parser.add_argument("--skip-bootstrap", action="store_true", help="do not migrate the benchmark database first")
    return parser.parse_known_args(argv)


def _setup_django(database_url: str, skip_bootstrap: bool) -> None:
    os.environ["DATABASE_URL"] = database_url  # subprocesses (manage.py …) inherit it
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesflow.settings.dev"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    # Pages are measured as deployed (DEBUG off, hashed static names), which needs the manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    if not skip_bootstrap:
        started = time.perf_counter()
        call_command("bootstrap", no_demo=True, verbosity=0)
        print(f"bench: database ready in {time.perf_counter() - started:.1f}s", flush=True)


def run_module(name: str, argv: list[str]) -> dict:
    from bench import support

    support.take_figures()
    tee = _Tee(sys.stdout)
    started_at = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with contextlib.redirect_stdout(tee):
        print(f"=== bench_{name} {' '.join(argv)}".rstrip(), flush=True)
        try:
            code = importlib.import_module(f"bench.bench_{name}").main(list(argv))
            code = 0 if code is None else int(code)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except Exception:
            traceback.print_exc(file=tee)
            code = 1
    return {
        "module": f"bench_{name}",
        "argv": argv,
        "exit_code": code,
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "figures": support.take_figures(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "output": tee.copy.getvalue(),
    }


def main(argv: list[str]) -> int:
    options, passthrough = _parse(argv)
    available = discover()
    if options.list:
        print("\n".join(available))
        return 0
    wanted = [n.strip().removeprefix("bench_") for n in options.only.split(",") if n.strip()] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(f"bench: unknown module(s) {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesflow")
    database_url = bench_database_url(base_url, options.database)
    if urlsplit(database_url).path == urlsplit(base_url).path and not options.database:
        print("bench: refusing to run in the developer's own database", file=sys.stderr)
        return 2
    if database_ensure(database_url):
        print(f"bench: created database {urlsplit(database_url).path.lstrip('/')}", flush=True)
    _setup_django(database_url, options.skip_bootstrap)

    from bench import support

    RESULTS.mkdir(exist_ok=True)
    failed = []
    for name in wanted:
        result = run_module(name, passthrough)
        result["database"] = urlsplit(database_url).path.lstrip("/")
        result["machine"] = support.machine()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"{name}-{stamp}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"bench: {name} exited {result['exit_code']} after {result['wall_seconds']:.1f}s; results in {path.relative_to(ROOT)}", flush=True)
        if result["exit_code"]:
            failed.append(name)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
