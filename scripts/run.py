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
    finance     finance / salesflow-demo      (records prepayments: http://demo.localhost:{PORT}/evidence/finance/)
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
                "--access-logfile", "-", "--graceful-timeout", "5",
                # The control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl):
                # two stacks on different PORTs would take it from each other. Nothing uses it.
                "--no-control-socket"],
        "worker": [str(BIN / "celery"), "-A", "salesflow", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [str(BIN / "celery"), "-A", "salesflow", "beat", "--loglevel", "INFO",
                 "--schedule", str(ROOT / ".data" / "celerybeat-schedule")],
    }
    # Each child gets its own process group: Ctrl-C reaches only this script, which then
    # sends every child exactly one SIGTERM (gunicorn: graceful stop, worker: warm shutdown).
    # Sharing the terminal's group, they would get Ctrl-C and then our SIGTERM on top — a
    # second signal that turns the worker's warm shutdown cold and gunicorn's graceful stop
    # into SIGKILLed workers.
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, process_group=0) for name, cmd in commands.items()
    }

    def shut_down(*_):
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # one orderly stop, whatever is pressed again
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in children.items():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within 15 s; killing it", file=sys.stderr, flush=True)
                os.killpg(child.pid, signal.SIGKILL)  # its own group: the master and its workers
                child.wait()
        print("SalesFlow stopped.", flush=True)
        sys.exit(0)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, shut_down)
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
