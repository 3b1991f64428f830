from django.db.models import QuerySet

from .models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    """Tenants the operator serves (the clone template is not one of them)."""
    return Tenant.objects.exclude(schema_name="public").filter(is_template=False).prefetch_related("domains").order_by("name")


def tenant_get_by_schema(schema_name: str) -> Tenant | None:
    return Tenant.objects.filter(schema_name=schema_name, is_template=False).first()


def tenants_for_command(schema_name: str | None) -> list[Tenant]:
    """A command's tenants: the one named by --schema (CommandError when unknown), else every tenant."""
    from django.core.management.base import CommandError

    if not schema_name:
        return list(tenant_list())
    tenant = tenant_get_by_schema(schema_name)
    if tenant is None:
        raise CommandError(f"no tenant with schema {schema_name!r}")
    return [tenant]
