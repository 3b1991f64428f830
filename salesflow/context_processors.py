from django.db import connection
from django_tenants.utils import get_public_schema_name

from salesflow.navigation import nav_items
from salesflow.org.scoping import member_for


def shell(request):
    on_tenant = connection.schema_name != get_public_schema_name()
    member = member_for(request.user) if on_tenant and hasattr(request, "user") else None
    return {
        "on_tenant": on_tenant,
        "tenant_settings": getattr(request, "tenant_settings", None),
        "current_member": member,
        "nav_items": nav_items(member.role if member else None) if on_tenant else [],
    }
