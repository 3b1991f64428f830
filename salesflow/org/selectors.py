import datetime as dt

from django.core.cache import cache
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from salesflow.memo import memo_get

from .models import Member, TenantSettings
from .scoping import visible_user_ids

SETTINGS_CACHE_KEY = "org:tenant-settings"


def tenant_settings_get() -> TenantSettings:
    """The current tenant's settings: remembered in this process for a few seconds, cached per
    schema in Redis, and read from the database when Redis cannot answer."""
    return memo_get(SETTINGS_CACHE_KEY, _tenant_settings_load)


def _tenant_settings_load() -> TenantSettings:
    try:
        cached = cache.get(SETTINGS_CACHE_KEY)
    except RedisError:
        return TenantSettings.objects.get(pk=1)
    if cached is not None:
        return cached
    current = TenantSettings.objects.get(pk=1)
    try:
        cache.set(SETTINGS_CACHE_KEY, current, timeout=300)
    except RedisError:
        pass
    return current


def member_list(*, user) -> QuerySet[Member]:
    """Members `user` may see, with their team and region loaded and `is_new_hire` annotated."""
    cutoff = timezone.localdate() - dt.timedelta(days=tenant_settings_get().new_hire_days)
    members = Member.objects.select_related("user", "team", "region", "team__manager").annotate(
        is_new_hire=ExpressionWrapper(Q(hire_date__gte=cutoff), output_field=BooleanField())
    )
    visible = visible_user_ids(user)
    if visible is not None:
        members = members.filter(user_id__in=visible)
    return members.order_by("team__name", "full_name")


def member_get_for_user(*, user, member_id: int) -> Member | None:
    """The member with that id if `user` may see them, else None (missing and hidden alike)."""
    return member_list(user=user).filter(pk=member_id).first()
