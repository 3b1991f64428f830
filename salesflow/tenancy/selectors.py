from django.db.models import QuerySet

from .models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    """Tenants the operator serves (the clone template is not one of them)."""
    return Tenant.objects.exclude(schema_name="public").filter(is_template=False).prefetch_related("domains").order_by("name")


def tenant_get_by_schema(schema_name: str) -> Tenant | None:
    return Tenant.objects.filter(schema_name=schema_name, is_template=False).first()
