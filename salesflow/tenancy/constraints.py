"""Cloning gives a tenant's unique constraints PostgreSQL's default names (`<table>_<cols>_key`)
instead of the names the template got from its migrations. Django finds most constraints by
their columns, but `RemoveConstraint` and friends go by name, so a later migration would fail
on every cloned tenant. After a clone, each such constraint takes the template's name again.
"""
from django.conf import settings
from django.db import connection

MISNAMED = """
SELECT mine_table.relname, mine.conname, theirs.conname
FROM pg_constraint mine
JOIN pg_class mine_table ON mine_table.oid = mine.conrelid
JOIN pg_namespace mine_ns ON mine_ns.oid = mine_table.relnamespace AND mine_ns.nspname = %(schema)s
JOIN pg_namespace theirs_ns ON theirs_ns.nspname = %(template)s
JOIN pg_class theirs_table ON theirs_table.relnamespace = theirs_ns.oid AND theirs_table.relname = mine_table.relname
JOIN pg_constraint theirs ON theirs.conrelid = theirs_table.oid AND theirs.contype = mine.contype
     AND pg_get_constraintdef(theirs.oid) = pg_get_constraintdef(mine.oid)
WHERE mine.contype IN ('u', 'x') AND mine.conname <> theirs.conname
ORDER BY 1, 2
"""


def constraint_names_align(schema: str, *, template: str | None = None) -> list[tuple[str, str, str]]:
    """Rename `schema`'s constraints that match a template constraint in all but name; returns
    (table, old name, new name) for each rename. Idempotent; nothing to do for the template itself."""
    template = template or settings.TENANT_BASE_SCHEMA
    if schema == template:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(MISNAMED, {"schema": schema, "template": template})
        renames = cursor.fetchall()
        for table, old, new in renames:
            cursor.execute(f"ALTER TABLE {quote(schema)}.{quote(table)} RENAME CONSTRAINT {quote(old)} TO {quote(new)}")
    return renames
