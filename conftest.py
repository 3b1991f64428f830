"""Test tenants are created once per test session (per xdist worker database).

Each tenant gets a fixed cast: admin, a region director, a manager, a rep of the
manager's team, and a rep of another team. A second tenant ("beta") is the outsider.
"""
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from salesflow.broker import breaker_reset
from salesflow.memo import memo_clear
from salesflow.org.models import Role
from salesflow.org.tests.factories import PASSWORD, MemberFactory, RegionFactory, TeamFactory, UserFactory
from salesflow.tenancy.models import Tenant
from salesflow.tenancy.services import public_domains_ensure, tenant_provision

TENANTS = ("alpha", "beta")
ADMIN_PASSWORD = "admin-pass-123"


@dataclass
class Cast:
    tenant: Tenant
    host: str
    admin: object
    director: object
    manager: object
    rep: object
    other_rep: object
    other_manager: object


def _make_cast(schema: str) -> None:
    from salesflow.org.vocabularies import vocabulary_ensure

    with schema_context(schema):
        # The provisioned lists know the big regions; the cast's sub-region joins the region list.
        vocabulary_ensure(actor="test setup", kind="region", values=["上海"])
        region = RegionFactory(name="华东区")
        sub_region = RegionFactory(name="上海", parent=region)
        director = MemberFactory(user=UserFactory(username="director"), role=Role.MANAGER, team=None, region=region)
        region.director = director.user
        region.save()
        manager = MemberFactory(user=UserFactory(username="manager"), role=Role.MANAGER, team=None)
        team_a = TeamFactory(name="A组", region=sub_region, manager=manager.user)
        manager.team = team_a
        manager.save()
        other_manager = MemberFactory(user=UserFactory(username="manager_b"), role=Role.MANAGER, team=None)
        other_region = RegionFactory(name="华北区")
        TeamFactory(name="B组", region=other_region, manager=other_manager.user)
        MemberFactory(user=UserFactory(username="rep"), team=team_a)
        MemberFactory(user=UserFactory(username="rep_b"), team=TeamFactory(name="B组"))


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_modify_db_settings, django_db_blocker):
    """The test database, always (pytest-django only makes one when some test is marked django_db;
    committed-tenant and live-server tests are not), with the session's tenants in it."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_config = setup_databases(verbosity=request.config.option.verbose, interactive=False, aliases={"default"})
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert name.startswith("test_"), f"refusing to create test tenants in the non-test database {name!r}"
        public_domains_ensure(["localhost", "127.0.0.1", "testserver"])
        for schema in TENANTS:
            if not Tenant.objects.filter(schema_name=schema).exists():
                tenant_provision(
                    schema=schema, domain=f"{schema}.localhost", name=f"{schema.title()} Medical",
                    admin_email=f"admin@{schema}.example.com", admin_password=ADMIN_PASSWORD,
                )
                _make_cast(schema)
    yield
    with django_db_blocker.unblock():
        teardown_databases(db_config, verbosity=request.config.option.verbose)


def _cast_for(schema: str) -> Cast:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    with schema_context(schema):
        users = {u.username: u for u in User.objects.all()}
    return Cast(
        tenant=Tenant.objects.get(schema_name=schema),
        host=f"{schema}.localhost",
        admin=users[f"admin@{schema}.example.com"],
        director=users["director"],
        manager=users["manager"],
        rep=users["rep"],
        other_rep=users["rep_b"],
        other_manager=users["manager_b"],
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit and sign-in counters live in Redis beyond a test's rollback: every test starts without any."""
    from salesflow.ratelimit import rate_limit_forget_all

    rate_limit_forget_all()
    yield


@pytest.fixture(autouse=True)
def _fresh_process_memo():
    """Configuration remembered in this process (salesflow.memo) never outlives a test's rollback,
    nor does a broker circuit breaker one test tripped."""
    memo_clear()
    breaker_reset()
    yield
    memo_clear()
    breaker_reset()
    _shared_settings_forget()


def _shared_settings_forget():
    """A test that changed tenant settings and rolled back leaves their copy in Redis: forget it,
    or the next test reads (say) an English default language the database no longer holds."""
    from salesflow.org.services import tenant_settings_forget

    previous = connection.schema_name
    for schema in TENANTS:
        connection.set_schema(schema)
        tenant_settings_forget()
    if previous == get_public_schema_name():
        connection.set_schema_to_public()
    else:
        connection.set_schema(previous)


@pytest.fixture(autouse=True)
def _forget_shared_configuration():
    """Configuration cached per tenant in Redis (vocabularies, tenant settings, routing rules,
    scoring policy) is out of a test's rollback's reach: a test that switched the tenant to
    English or Berlin time must not leave the next test on this worker reading English or Berlin."""
    from django.core.cache import cache

    from leads.services.routing import RULES_CACHE_KEY
    from leads.services.scoring import POLICY_CACHE_KEY
    from salesflow.org.selectors import SETTINGS_CACHE_KEY
    from salesflow.org.vocabularies.selectors import VOCABULARY_MEMO_KEY

    keys = [VOCABULARY_MEMO_KEY, SETTINGS_CACHE_KEY, RULES_CACHE_KEY, POLICY_CACHE_KEY]

    def forget():
        for schema in TENANTS:
            with schema_context(schema):
                cache.delete_many(keys)

    forget()
    yield
    forget()


@pytest.fixture
def in_public(db):
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def alpha(db) -> Cast:
    """The alpha tenant's cast, with the connection switched into its schema."""
    cast = _cast_for("alpha")
    connection.set_tenant(cast.tenant)
    yield cast
    connection.set_schema(get_public_schema_name())


@pytest.fixture
def beta(db) -> Cast:
    return _cast_for("beta")


class TenantClient(Client):
    """A test client bound to one tenant host; logging in writes the session in that schema."""

    def __init__(self, tenant: Tenant, host: str, **kwargs):
        super().__init__(HTTP_HOST=host, **kwargs)
        self.tenant = tenant

    def force_login(self, user, backend=None):
        with schema_context(self.tenant.schema_name):
            return super().force_login(user, backend)

    def login(self, **credentials):
        with schema_context(self.tenant.schema_name):
            return super().login(**credentials)


@pytest.fixture
def alpha_client(alpha) -> TenantClient:
    return TenantClient(alpha.tenant, alpha.host)


@pytest.fixture
def client_for():
    """client_for(cast, user): a client on the cast's tenant host, signed in as `user`."""

    def make(cast: Cast, user=None) -> TenantClient:
        client = TenantClient(cast.tenant, cast.host)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def committed_tenant(django_db_setup, django_db_blocker):
    """A fresh tenant whose writes really commit (for threads and worker processes); dropped after."""
    import uuid

    with django_db_blocker.unblock():
        schema = f"t{uuid.uuid4().hex[:10]}"
        result = tenant_provision(
            schema=schema, domain=f"{schema}.localhost", name="Committed Co",
            admin_email=f"admin@{schema}.example.com", admin_password=ADMIN_PASSWORD,
        )
        yield result.tenant
        connection.set_schema_to_public()
        result.tenant.delete(force_drop=True)


# --- Browser tests: a real gunicorn on the test database, driven by Debian's Chromium. ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def _ensure_debian_package(path, packages):
    """Install Debian packages when the tool at `path` is missing, as root through apt-get (tests need them)."""
    import fcntl
    import os
    import shutil
    import subprocess

    if os.path.exists(path):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{path} is missing and cannot be installed here (needs root and apt-get)")
    # Every xdist worker may get here at once; dpkg allows one installer, so the others wait.
    with open("/tmp/salesflow-apt-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path):
            return
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def _ensure_chromium():
    _ensure_debian_package(CHROMIUM, ["chromium", "fonts-noto-cjk"])


@pytest.fixture
def poppler_utils():
    """pdftotext, pdffonts and pdftoppm from Debian's poppler-utils, installed first when missing."""
    _ensure_debian_package("/usr/bin/pdftotext", ["poppler-utils"])


def chromium_launch(playwright):
    """Debian's Chromium (installed first when missing), launched headless with the flags this machine needs."""
    _ensure_chromium()
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    """http://localhost:PORT of a gunicorn serving the session's test database; tenant hosts work as <schema>.localhost:PORT."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from django.conf import settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = settings.DATABASES["default"]
    host = db["HOST"] or "localhost"
    if host.startswith("/"):
        from urllib.parse import quote

        host = quote(host, safe="")
    url = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "salesflow.settings.test"}
    root = Path(__file__).resolve().parent
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "salesflow.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=root, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the test web server did not start")
                time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def off_main_thread(fn):
    """Run `fn` on a thread of its own and close that thread's database connections afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


BROWSER_TIMEOUT_MS = 120_000


def browser_context(browser, **options):
    """A new browser context whose waits allow for a loaded machine: Playwright's 30 s default is
    too short when the suite shares two cores with other work (a page that never loads still
    fails, later)."""
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context


def on_phone(flow, *, locale: str = "zh-CN"):
    """Run `flow(page)` on a fresh 375×812 touch phone page in Chromium, and return its result."""
    return in_chromium(flow, viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                       has_touch=True, locale=locale)


def on_desktop(flow, *, locale: str = "zh-CN"):
    """Run `flow(page)` on a fresh 1280×900 desktop page in Chromium, and return its result."""
    return in_chromium(flow, viewport={"width": 1280, "height": 900}, locale=locale)


def in_chromium(flow, **context_options):
    """Run `flow(page)` on a fresh page of a context with `context_options`.

    Playwright's sync API keeps an event loop on the thread that starts it and Django then
    refuses ORM calls on that thread, so the browser lives in a worker thread of its own.
    """
    from concurrent.futures import ThreadPoolExecutor

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = chromium_launch(playwright)
            context = browser_context(browser, **context_options)
            try:
                return flow(context.new_page())
            finally:
                browser.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def tenant_url(live_server_url: str, schema: str, path: str = "/") -> str:
    return live_server_url.replace("//localhost", f"//{schema}.localhost") + path
