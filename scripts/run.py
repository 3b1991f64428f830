"""`make run`: services, migrations, the demo tenant, then web + Celery worker + beat.

Ctrl-C stops all three cleanly; the data stays under .data/ (or in the servers used)
so the next start skips provisioning and seeding.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402

ROOT = stack.ROOT
BIN = ROOT / ".venv" / "bin"
PORT = int(os.environ.get("PORT", "8000"))


def _manage(env, *args):
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def _wait_healthy(timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def _banner():
    print(
        f"""
SalesFlow is running.
  Demo tenant   http://demo.localhost:{PORT}/
    manager     manager1 / salesflow-demo     (regional director: director / salesflow-demo)
    rep         rep001 / salesflow-demo
    admin       admin@demo.example.com / salesflow-admin   (Django admin: http://demo.localhost:{PORT}/admin/)
  Operator      http://localhost:{PORT}/   operator / salesflow-operator
  Health        http://localhost:{PORT}/healthz
Press Ctrl-C to stop web, worker and beat.
""",
        flush=True,
    )


def main() -> int:
    started = time.monotonic()
    env = {**os.environ, **stack.resolve(), "DJANGO_SETTINGS_MODULE": "salesflow.settings.dev", "PYTHONUNBUFFERED": "1"}
    print(f"database: {env['DATABASE_URL']}\nredis:    {env['REDIS_URL']}", flush=True)
    (ROOT / ".data").mkdir(exist_ok=True)
    _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    _manage(env, "bootstrap")
    commands = {
        "web": [str(BIN / "gunicorn"), "salesflow.wsgi", "--bind", f"0.0.0.0:{PORT}", "--workers", "3",
                "--access-logfile", "-", "--graceful-timeout", "5"],
        "worker": [str(BIN / "celery"), "-A", "salesflow", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [str(BIN / "celery"), "-A", "salesflow", "beat", "--loglevel", "INFO",
                 "--schedule", str(ROOT / ".data" / "celerybeat-schedule")],
    }
    children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}

    def shut_down(*_):
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in children.items():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        print("SalesFlow stopped.", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, shut_down)
    signal.signal(signal.SIGTERM, shut_down)
    if not _wait_healthy():
        print("web did not become healthy within 60 s", file=sys.stderr)
        shut_down()
    print(f"healthy after {time.monotonic() - started:.1f}s", flush=True)
    _banner()
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the rest", file=sys.stderr)
                shut_down()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
