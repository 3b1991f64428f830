from django import template
from django.db import connection
from django_tenants.utils import get_public_schema_name

from ..selectors import deliveries_failed_count

register = template.Library()


@register.inclusion_tag("notifications/_failed_deliveries.html", takes_context=True)
def failed_deliveries_notice(context):
    """The count of outside sends that gave up, for whoever may see and re-send them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    # Staff first: a rep's inbox costs no permission queries.
    allowed = getattr(user, "is_staff", False) and user.has_perm("notifications.view_delivery")
    if not allowed or connection.schema_name == get_public_schema_name():
        return {"failed": 0}
    return {"failed": deliveries_failed_count()}
