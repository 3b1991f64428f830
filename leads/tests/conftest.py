import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context


@pytest.fixture(autouse=True)
def _forget_cached_routing_inputs():
    """Rules, policy and close rates are cached per tenant in Redis, which a test's rollback
    does not reach: every test starts from the database's own state."""
    from leads.services.routing import CLOSE_RATES_CACHE_KEY, RULES_CACHE_KEY
    from leads.services.scoring import POLICY_CACHE_KEY

    def forget():
        for schema in ("alpha", "beta"):
            with schema_context(schema):
                cache.delete_many([RULES_CACHE_KEY, POLICY_CACHE_KEY, CLOSE_RATES_CACHE_KEY])

    forget()
    yield
    forget()
