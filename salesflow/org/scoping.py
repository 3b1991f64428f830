"""The one place that decides whose records a user may see.

Every selector that lists people's work filters through `visible_user_ids`:
- a tenant admin sees everyone in the tenant;
- a manager sees themself, the members of the teams they manage and of every team and
  member in the regions they direct, including sub-regions (transitively);
- a rep sees only themself; so does a finance user (their own page lists what they need).
"""
from django.db import connection
from django.db.models import Q, QuerySet

from .models import Member, Region, Role, Team


def member_for(user) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_member_cache", None)
    if cached is None:
        cached = Member.objects.select_related("team", "region").filter(user=user).first()
        user._member_cache = cached
    return cached


def role_of(user) -> str | None:
    member = member_for(user)
    return member.role if member else None


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def is_manager(user) -> bool:
    return role_of(user) in (Role.MANAGER, Role.ADMIN)


def _region_subtree(root_ids: set[int]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in Region.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(region_id)
    seen, stack = set(), list(root_ids)
    while stack:
        region_id = stack.pop()
        if region_id not in seen:
            seen.add(region_id)
            stack.extend(children.get(region_id, []))
    return seen


def directed_region_ids(user) -> set[int]:
    """Regions a director answers for, sub-regions included."""
    return _region_subtree(set(Region.objects.filter(director=user).values_list("id", flat=True)))


def managed_teams(user, *, regions: set[int] | None = None) -> QuerySet[Team]:
    """Teams a manager answers for: managed directly or inside a region they direct."""
    regions = directed_region_ids(user) if regions is None else regions
    return Team.objects.filter(Q(manager=user) | Q(region_id__in=regions))


_UNSET = object()


def visible_user_ids(user) -> set[int] | None:
    """User ids whose records `user` may see; None means the whole tenant (admins).

    Remembered on the user object, which lives for one request: a page with several
    scoped lists asks the database once.
    """
    cached = getattr(user, "_visible_user_ids_cache", _UNSET)
    if cached is _UNSET:
        cached = _visible_user_ids(user)
        if getattr(user, "is_authenticated", False):
            user._visible_user_ids_cache = cached
    return cached


def _visible_user_ids(user) -> set[int] | None:
    member = member_for(user)
    if member is None:
        return set()
    if member.role == Role.ADMIN:
        return None
    if member.role in (Role.REP, Role.FINANCE):
        return {user.pk}
    ids = _managed_user_ids(user.pk)
    ids.add(user.pk)
    return ids


def _managed_user_ids(user_id: int) -> set[int]:
    """The people of the teams and regions a manager answers for, in one statement.

    The same rule as `directed_region_ids` + `managed_teams` + their members (three round
    trips, paid on every scoped request): regions directed, their sub-regions found by a
    recursive walk; teams managed or inside those regions; members of those teams or regions.
    """
    region, team, member = Region._meta.db_table, Team._meta.db_table, Member._meta.db_table
    sql = f"""
        WITH RECURSIVE directed(id) AS (
            SELECT id FROM "{region}" WHERE director_id = %s
            UNION
            SELECT child.id FROM "{region}" child JOIN directed ON child.parent_id = directed.id
        )
        SELECT user_id FROM "{member}"
        WHERE region_id IN (SELECT id FROM directed)
           OR team_id IN (SELECT id FROM "{team}" WHERE manager_id = %s OR region_id IN (SELECT id FROM directed))
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id])
        return {row[0] for row in cursor.fetchall()}


def scope_by_owner(queryset: QuerySet, user, *, owner_field: str = "owner") -> QuerySet:
    """Narrow `queryset` to rows whose `owner_field` is a user `user` may see."""
    visible = visible_user_ids(user)
    if visible is None:
        return queryset
    return queryset.filter(**{f"{owner_field}__in": visible})
