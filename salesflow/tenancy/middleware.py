"""Tenant resolution by host name, remembered per process for a short while.

django-tenants looks the host up on every request: a switch to the public schema, a
query, a switch back. For a small API request that is a third of its database work, and
hosts almost never move between tenants. Each process keeps what it found for
`TTL_SECONDS`; a change to a tenant or a domain in this process forgets at once, other
processes see it within the TTL (a deleted tenant's host answers errors there until then).
A host that is not found is never remembered.
"""
import threading
import time

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_tenants.middleware.main import TenantMainMiddleware

from .models import Domain, Tenant

TTL_SECONDS = 30
_known: dict[str, tuple[float, Tenant]] = {}
_lock = threading.Lock()


class CachedTenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        now = time.monotonic()
        hit = _known.get(hostname)
        if hit is not None and hit[0] > now:
            return hit[1]
        tenant = super().get_tenant(domain_model, hostname)
        with _lock:
            _known[hostname] = (now + TTL_SECONDS, tenant)
        return tenant


def tenants_forget() -> None:
    with _lock:
        _known.clear()


@receiver([post_save, post_delete], sender=Domain)
@receiver([post_save, post_delete], sender=Tenant)
def _tenant_changed(**kwargs):
    tenants_forget()
    transaction.on_commit(tenants_forget)  # and again once committed: a request in between may re-remember the old
