import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_exists, tenant_context

from audit.services import audit_record
from salesflow.org.models import Member, Role, TenantSettings

from .constraints import constraint_names_align
from .models import Domain, Tenant

SCHEMA_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SCHEMAS = {"public", "information_schema", settings.TENANT_BASE_SCHEMA}
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass
class ProvisionResult:
    tenant: Tenant
    admin_username: str
    announcements: dict[str, str] = field(default_factory=dict)


def _validate_request(*, schema: str, domain: str, admin_email: str, admin_password: str, intake_rate_limit: int):
    errors: dict[str, list[str]] = {}
    if not SCHEMA_PATTERN.match(schema) or schema in RESERVED_SCHEMAS or schema.startswith("pg_"):
        errors["schema"] = [_("Use 2–41 lowercase letters, digits or underscores, starting with a letter (not a reserved name).")]
    elif Tenant.objects.filter(schema_name=schema).exists() or schema_exists(schema):
        errors["schema"] = [_("A tenant with schema “%(schema)s” already exists.") % {"schema": schema}]
    if not DOMAIN_PATTERN.match(domain):
        errors["domain"] = [_("“%(domain)s” is not a valid host name.") % {"domain": domain}]
    elif Domain.objects.filter(domain=domain).exists():
        errors["domain"] = [_("“%(domain)s” already belongs to a tenant.") % {"domain": domain}]
    try:
        validate_email(admin_email)
    except ValidationError:
        errors["admin_email"] = [_("“%(email)s” is not a valid e-mail address.") % {"email": admin_email}]
    try:
        validate_password(admin_password)
    except ValidationError as exc:
        errors["admin_password"] = list(exc.messages)
    if intake_rate_limit < 1:
        errors["intake_rate_limit"] = [_("The intake rate limit must be at least 1 request per minute.")]
    if errors:
        raise ValidationError(errors)


def tenant_template_ensure() -> Tenant:
    """The migrated schema new tenants are cloned from; created (migrated once) on first use."""
    template = Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
    if template is None:
        template = Tenant(schema_name=settings.TENANT_BASE_SCHEMA, name="Template", is_template=True)
        template.save(verbosity=0)
    return template


def _install_defaults(admin) -> dict[str, str]:
    announcements: dict[str, str] = {}
    for dotted in settings.SALESFLOW_TENANT_DEFAULTS:
        announcements.update(import_string(dotted)(actor=admin) or {})
    return announcements


def tenant_provision(
    *,
    schema: str,
    domain: str,
    name: str,
    admin_email: str,
    admin_password: str,
    intake_rate_limit: int = 6000,
    operator: str = "operator",
) -> ProvisionResult:
    """Create a tenant by cloning the template schema, with its admin and default configuration."""
    admin_email = admin_email.strip().lower()
    domain = domain.strip().lower()
    _validate_request(
        schema=schema, domain=domain, admin_email=admin_email,
        admin_password=admin_password, intake_rate_limit=intake_rate_limit,
    )
    tenant_template_ensure()
    with transaction.atomic():
        tenant = Tenant(schema_name=schema, name=name)
        tenant.save(verbosity=0)
        constraint_names_align(schema)
        Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
        with tenant_context(tenant):
            TenantSettings.objects.create(pk=1, display_name=name, intake_rate_limit=intake_rate_limit)
            admin = get_user_model().objects.create_user(
                username=admin_email, email=admin_email, password=admin_password, is_staff=True, is_superuser=True
            )
            Member.objects.create(user=admin, full_name=admin_email.split("@")[0], role=Role.ADMIN)
            audit_record(
                actor=operator,
                verb="tenant.provisioned",
                target_type="tenancy.tenant",
                target_id=schema,
                payload={"name": name, "domain": domain, "admin": admin_email, "intake_rate_limit": intake_rate_limit},
            )
            announcements = _install_defaults(admin)
        if settings.SALESFLOW_APP_DB_ROLE:
            app_role_grant(role=settings.SALESFLOW_APP_DB_ROLE, schemas=[schema])
    return ProvisionResult(tenant=tenant, admin_username=admin_email, announcements=announcements)


def public_domains_ensure(hosts: list[str]) -> Tenant:
    """The public tenant and the host names that serve the operator pages."""
    public, _ = Tenant.objects.get_or_create(schema_name=get_public_schema_name(), defaults={"name": "SalesFlow operator"})
    for host in hosts:
        Domain.objects.get_or_create(domain=host, defaults={"tenant": public, "is_primary": host == hosts[0]})
    return public




# What the application role may not do to the log's own tables. The chain head must stay
# updatable (every append moves it); a trigger lets it move only by an append.
_APPEND_ONLY_TABLES = [
    ("audit_auditentry", "UPDATE, DELETE, TRUNCATE"),
    ("audit_checkpoint", "UPDATE, DELETE, TRUNCATE"),
    ("audit_checkpointstamp", "UPDATE, DELETE, TRUNCATE"),
    ("audit_auditchainhead", "DELETE, TRUNCATE"),
]


def app_role_grant(*, role: str, schemas: list[str]) -> None:
    """Give the application's own database role what it needs, and no more, in `schemas`.

    It may read and write every table but may only SELECT and INSERT the audit log: with
    migrations run by the owner and the app connected as `role`, PostgreSQL refuses an
    UPDATE, DELETE or TRUNCATE of the log before any trigger is even reached.
    """
    from psycopg import sql

    with connection.cursor() as cursor:
        for schema in schemas:
            ident_schema, ident_role = sql.Identifier(schema), sql.Identifier(role)
            for statement in (
                "GRANT USAGE ON SCHEMA {s} TO {r}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            ):
                cursor.execute(sql.SQL(statement).format(s=ident_schema, r=ident_role))
            if schema != get_public_schema_name():
                for table, rights in _APPEND_ONLY_TABLES:
                    cursor.execute(
                        sql.SQL("REVOKE {rights} ON {s}.{t} FROM {r}").format(
                            rights=sql.SQL(rights), s=ident_schema, t=sql.Identifier(table), r=ident_role
                        )
                    )
