"""Nothing crosses tenants: queries, cache keys, sessions, files and Celery tasks."""
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from audit.tasks import audit_chain_verify_task
from salesflow.celery import app as celery_app
from salesflow.org.models import Region


def test_rows_of_one_tenant_are_invisible_in_another(alpha, beta):
    Region.objects.create(name="只在甲租户")
    with schema_context("beta"):
        assert not Region.objects.filter(name="只在甲租户").exists()
    assert Region.objects.filter(name="只在甲租户").exists()


def test_cache_keys_carry_the_schema(alpha):
    cache.set("greeting", "alpha's")
    assert cache.make_key("greeting").startswith("alpha:")
    with schema_context("beta"):
        assert cache.get("greeting") is None
        cache.set("greeting", "beta's")
    assert cache.get("greeting") == "alpha's"
    cache.delete("greeting")
    with schema_context("beta"):
        cache.delete("greeting")


def test_a_session_cookie_from_one_tenant_is_worthless_on_another(alpha, beta, client_for):
    alpha_client = client_for(alpha, alpha.rep)
    assert alpha_client.get("/").status_code == 200
    cookie = alpha_client.cookies["sessionid"].value
    connection.set_schema_to_public()
    stolen = client_for(beta)
    stolen.cookies["sessionid"] = cookie
    response = stolen.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_uploaded_files_land_in_the_tenants_own_folder(alpha):
    name = default_storage.save("evidence/minutes.txt", ContentFile(b"alpha minutes"))
    try:
        assert default_storage.path(name).split("/")[-3] == "alpha"
        with schema_context("beta"):
            assert not default_storage.exists(name)
    finally:
        default_storage.delete(name)


def test_the_public_host_shows_no_tenant_pages(in_public, client):
    assert client.get("/team/", HTTP_HOST="localhost").status_code == 404
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_host_is_not_served(in_public, client):
    assert client.get("/", HTTP_HOST="nobody.localhost").status_code == 404


@pytest.fixture
def celery_worker_thread():
    """A real Celery worker (Redis broker) in this process, consuming this run's queue."""
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                      queues=[celery_app.conf.task_default_queue]) as worker:
        yield worker


def _verified_count(schema: str) -> int:
    with schema_context(schema):
        return AuditEntry.objects.filter(verb="audit.chain_verified").count()


def test_a_task_runs_in_the_schema_it_was_sent_from(committed_tenant, celery_worker_thread):
    schema = committed_tenant.schema_name
    before, beta_before = _verified_count(schema), _verified_count("beta")
    with schema_context(schema):
        audit_chain_verify_task.apply_async()
    for _ in range(200):
        if _verified_count(schema) > before:
            break
        time.sleep(0.05)
    assert _verified_count(schema) == before + 1
    assert _verified_count("beta") == beta_before
