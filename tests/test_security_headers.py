"""Production settings pass Django's deploy check; every response carries the CSP; only the web form may be framed."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from salesflow.org.models import TenantSettings

ROOT = Path(__file__).resolve().parent.parent


def test_the_deploy_check_is_clean_with_production_settings():
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": ".salesflow.example",
           "DJANGO_SETTINGS_MODULE": "salesflow.settings.production"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("path", ["/accounts/login/", "/leads/", "/admin/", "/api/v1/openapi.json", "/healthz", "/no-such-page/"])
def test_every_response_carries_the_policy(alpha, client_for, path):
    response = client_for(alpha, alpha.manager).get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("style-src")[0]  # never for scripts


def test_pages_may_not_be_framed(alpha, client_for):
    response = client_for(alpha, alpha.manager).get("/leads/")
    assert response["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_web_form_is_framed_only_by_the_tenants_sites(alpha, client_for, django_capture_on_commit_callbacks):
    from salesflow.org.services import tenant_settings_forget, tenant_settings_update

    closed = client_for(alpha).get(reverse("leads:web-form"))
    assert closed["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in closed["Content-Security-Policy"]
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(actor=alpha.admin, reason="test",
                               web_form_embed_origins="https://www.alpha-med.example\nhttps://*.partner.example/")
    try:
        response = client_for(alpha).get(reverse("leads:web-form"))
        assert "frame-ancestors 'self' https://www.alpha-med.example https://*.partner.example" in response["Content-Security-Policy"]
        assert "X-Frame-Options" not in response
        assert client_for(alpha, alpha.manager).get("/leads/")["X-Frame-Options"] == "DENY"
    finally:
        tenant_settings_forget()


@pytest.mark.parametrize("value", ["javascript:alert(1)", "https://a.example/path", "https://a.example; script-src *", "*", "ftp://x.example"])
def test_an_embedding_site_must_be_a_plain_origin(alpha, value):
    settings = TenantSettings.objects.get(pk=1)
    settings.web_form_embed_origins = value
    with pytest.raises(ValidationError):
        settings.full_clean()
