"""The closed-deal summaries (`ClosedDeal`): kept by database triggers (migration 0014); this
rewrites them on demand — the backfill after a restore or a layout change, and tests."""
from django.db import connection, transaction


def closed_deals_refresh(*, opportunity_ids: list[int] | None = None) -> int:
    """Rewrite the summary rows of `opportunity_ids` (every closed deal when None) in the
    current tenant; rows of deals no longer closed go. Returns the rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT followups_closed_deal_refresh(%s, %s::bigint[])",
                       [connection.schema_name, list(opportunity_ids) if opportunity_ids is not None else None])
        return cursor.fetchone()[0]
