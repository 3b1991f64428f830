"""The accuracy figures kept in the shared cache under the data version they were computed from."""
from django.db import connection

CACHE_SECONDS = 600


def data_version() -> str | None:
    """What every accuracy figure depends on, read from five primary-key indexes: the latest frozen
    snapshot (its id and the moment it was frozen), the latest stage change (outcomes, won days),
    record change (amounts), manager adjustment and membership period (a rep who moves team takes
    their won deals along). All five are append-only, so any change that could move a figure moves
    this string; None without snapshots (nothing to measure)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT id || '@' || extract(epoch FROM created_at) FROM forecasting_forecastsnapshot
                    ORDER BY id DESC LIMIT 1),
                (SELECT MAX(id) FROM followups_stagechange), (SELECT MAX(id) FROM followups_recordchange),
                (SELECT MAX(id) FROM forecasting_commitadjustment), (SELECT MAX(id) FROM org_membershipperiod)
            """
        )
        snapshot, *rest = cursor.fetchone()
    return None if snapshot is None else ":".join(str(x) for x in (snapshot, *rest))


def cached(name: str, key_parts: tuple, compute):
    """`compute()`, kept in the shared cache under the data version (a page re-read while nothing
    changed costs four index lookups; the first read after any change computes again)."""
    from salesflow.memo import shared_get, shared_set

    version = data_version()
    if version is None:
        return compute()
    key = f"forecast:{name}:{version}:" + ":".join(str(x) for x in key_parts)
    found = shared_get(key)
    if found is None:
        found = compute()
        shared_set(key, found, CACHE_SECONDS)
    return found
