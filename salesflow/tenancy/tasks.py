from celery import current_app, shared_task
from django_tenants.utils import tenant_context

from .selectors import tenant_list


@shared_task
def fan_out_to_tenants(task_name: str, stagger_seconds: float = 2.0) -> int:
    """Beat's one dispatcher: queue `task_name` once per tenant, staggered.

    Sent inside each tenant's context so tenant-schemas-celery stamps the schema on it.
    """
    task = current_app.tasks[task_name]
    count = 0
    for index, tenant in enumerate(tenant_list()):
        with tenant_context(tenant):
            task.apply_async(countdown=index * stagger_seconds)
        count += 1
    return count
