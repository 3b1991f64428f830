import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context, schema_exists

from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from leads.services import intake_key_authenticate
from salesflow.org.models import Member, Role, TenantSettings
from salesflow.tenancy.models import Domain, Tenant
from salesflow.tenancy.services import tenant_provision


def test_provisioning_clones_a_ready_tenant_with_admin_key_and_log(in_public, capsys):
    call_command(
        "provision_tenant", schema="gamma", domain="gamma.localhost", name="Gamma 医疗",
        admin_email="Boss@Gamma.example.com", admin_password="gamma-pass-99", intake_rate_limit=120,
    )
    out = capsys.readouterr().out.splitlines()
    key_lines = [line for line in out if line.startswith("intake key: ")]
    assert len(key_lines) == 1
    key = key_lines[0].removeprefix("intake key: ")
    finance_lines = [line for line in out if line.startswith("finance secret: ")]
    assert len(finance_lines) == 1
    assert schema_exists("gamma") and Domain.objects.get(domain="gamma.localhost").tenant.schema_name == "gamma"
    with schema_context("gamma"):
        assert TenantSettings.objects.get().intake_rate_limit == 120
        admin = Member.objects.select_related("user").get(role=Role.ADMIN).user
        assert admin.username == "boss@gamma.example.com" and admin.check_password("gamma-pass-99")
        assert intake_key_authenticate(key) is not None
        from forecasting.services.finance_secret import finance_secret_get

        assert finance_secret_get() == finance_lines[0].removeprefix("finance secret: ")
        assert AuditEntry.objects.filter(verb="tenant.provisioned").exists()
        assert audit_chain_verify().intact
        with connection.cursor() as cursor:  # the cloned schema keeps the append-only triggers
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'gamma.audit_auditentry'::regclass AND NOT tgisinternal"
            )
            assert cursor.fetchone()[0] == 2
    with schema_context("alpha"):
        assert intake_key_authenticate(key) is None


def test_it_refuses_a_taken_schema_and_domain_and_says_why(in_public):
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        tenant_provision(schema="alpha", domain="alpha.localhost", name="Again", admin_email="a@b.example.com", admin_password="long-enough-1")
    assert "already exists" in caught.value.message_dict["schema"][0]
    assert "already belongs" in caught.value.message_dict["domain"][0]


@pytest.mark.parametrize("schema", ["public", "tenant_template", "Bad-Name", "1abc", "pg_x"])
def test_it_refuses_reserved_or_malformed_schema_names(in_public, schema):
    with pytest.raises(ValidationError) as caught:
        tenant_provision(schema=schema, domain="new.localhost", name="X", admin_email="a@b.example.com", admin_password="long-enough-1")
    assert "schema" in caught.value.message_dict


def test_the_command_lists_every_problem(in_public):
    with pytest.raises(CommandError) as caught:
        call_command("provision_tenant", schema="ok_name", domain="bad host", name="X", admin_email="nope", admin_password="short")
    message = str(caught.value)
    assert "domain:" in message and "admin_email:" in message and "admin_password:" in message
    assert not Tenant.objects.filter(schema_name="ok_name").exists()


def test_if_missing_leaves_an_existing_tenant_alone(in_public, capsys):
    call_command("provision_tenant", schema="alpha", domain="x.localhost", name="X", admin_email="a@b.example.com", admin_password="long-enough-1", if_missing=True)
    assert "exists" in capsys.readouterr().out


def test_the_operator_provisions_from_the_public_pages(in_public, client, django_user_model):
    django_user_model.objects.create_superuser("op", "op@example.com", "op-pass-123")
    client.login(username="op", password="op-pass-123")
    response = client.post("/tenants/new/", {
        "name": "Delta", "schema": "delta", "domain": "delta.localhost", "admin_email": "admin@delta.example.com",
        "admin_password": "delta-pass-1", "intake_rate_limit": 600,
    }, HTTP_HOST="localhost")
    assert response.status_code == 201
    page = response.content.decode()
    assert "接入 API 密钥" in page and 'href="http://delta.localhost/accounts/login/"' in page
    assert Tenant.objects.filter(schema_name="delta").exists()
    listing = client.get("/", HTTP_HOST="localhost").content.decode()
    assert "delta.localhost" in listing and "tenant_template" not in listing


def test_a_tenant_user_cannot_use_the_operator_pages(in_public, client):
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 302


def _constraint_names(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, con.conname FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'f', 'x')""",
            [schema],
        )
        return set(cursor.fetchall())


def test_a_cloned_tenant_keeps_the_constraint_names_migrations_refer_to(in_public, settings):
    tenant_provision(schema="delta", domain="delta.localhost", name="Delta", admin_email="a@delta.example.com",
                     admin_password="delta-pass-99")
    names = _constraint_names("delta")
    assert ("notifications_notification", "notifications_one_per_event_recipient") in names
    assert ("audit_auditentry", "audit_prev_hash_unique") in names
    assert names == _constraint_names(settings.TENANT_BASE_SCHEMA)


def test_the_operator_signs_in_on_the_public_host(in_public, client, django_user_model):
    page = client.get("/accounts/login/", HTTP_HOST="localhost")
    assert page.status_code == 200 and 'name="username"' in page.content.decode()
    assert "password_reset" not in page.content.decode()  # only tenant hosts have that page
    django_user_model.objects.create_superuser("op2", "op2@example.com", "op-pass-123")
    signed_in = client.post("/accounts/login/", {"username": "op2", "password": "op-pass-123"}, HTTP_HOST="localhost")
    assert signed_in.status_code == 302
    tenants = client.get("/", HTTP_HOST="localhost").content.decode()
    assert "<th>名称</th><th>数据库模式</th><th>主机</th>" in tenants


@pytest.mark.parametrize(("language", "title", "label"), [("zh-hans", "已开通", "流水线阶段"), ("en", "is ready", "Pipeline stages")])
def test_the_provision_result_reads_in_the_operators_language_and_links_to_the_tenant(
    in_public, client, django_user_model, language, title, label
):
    django_user_model.objects.create_superuser("op3", "op3@example.com", "op-pass-123")
    client.login(username="op3", password="op-pass-123")
    client.cookies["django_language"] = language
    schema = f"prov_{language[:2]}"
    response = client.post("/tenants/new/", {
        "name": "Epsilon", "schema": schema, "domain": f"{schema.replace('_', '-')}.localhost",
        "admin_email": f"admin@{schema.replace('_', '-')}.example.com", "admin_password": "epsilon-pass-1",
        "intake_rate_limit": 600,
    }, HTTP_HOST="localhost")
    page = response.content.decode()
    assert response.status_code == 201 and title in page and label in page
    assert f'href="http://{schema.replace("_", "-")}.localhost/accounts/login/"' in page
