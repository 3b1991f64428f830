"""seed_demo: who each follow-up touched. Reps differ in diligence, so the demo's health page
shows some healthy and some not: a diligent rep names one or two people of the customer on most
follow-ups (key people among them), a careless one on few. Deterministic per --seed (hashes,
not the database's random())."""
from django.db import connection, transaction

from audit.services import audit_record
from salesflow.org.models import Member, Role

from .figures import CONTACT, FU, FU_CONTACTS, LEAD, OPP


def seed_health_touches(*, rng, options) -> str:
    """Contacts touched by the seeded follow-ups; does nothing when some follow-up already names one."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {FU_CONTACTS})")
        if cursor.fetchone()[0]:
            return "follow-ups already name contacts; nothing seeded"
    reps = list(Member.objects.filter(role=Role.REP).order_by("user_id").values_list("user_id", flat=True))
    # A third diligent, a third middling, a third careless.
    diligence = [rng.choice([0.95, 0.9, 0.85, 0.6, 0.5, 0.4, 0.25, 0.15, 0.1]) for _ in reps]
    salt = str(options["seed"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH diligence AS (SELECT * FROM unnest(%(reps)s::bigint[], %(d)s::float8[]) AS d(user_id, share)),
            chosen AS (
                SELECT f.id AS followup_id, c.id AS contact_id,
                       row_number() OVER (PARTITION BY f.id ORDER BY md5(f.id || ':' || c.id || %(salt)s)) AS n,
                       1 + ('x' || substr(md5(%(salt)s || f.id), 9, 4))::bit(16)::int %% 2 AS wanted
                FROM {FU} f JOIN diligence d ON d.user_id = f.author_id
                JOIN {CONTACT} c ON c.account_id = f.account_id
                WHERE ('x' || substr(md5(f.id || %(salt)s), 1, 8))::bit(32)::bigint / 4294967296.0 < d.share
            )
            INSERT INTO {FU_CONTACTS} (followup_id, contact_id)
            SELECT followup_id, contact_id FROM chosen WHERE n <= wanted
            """,
            {"reps": reps, "d": diligence, "salt": salt},
        )
        added = cursor.rowcount
        # Fresh bulk-loaded tables have no statistics until autovacuum comes by; the health
        # queries' plans depend on them (nested loops over "1 row" estimates otherwise).
        for table in (FU, FU_CONTACTS, CONTACT, OPP, LEAD):
            cursor.execute(f"ANALYZE {table}")
        audit_record(actor="seed_demo", verb="demo.health_touches_seeded", target_type="followups.followup",
                     payload={"contacts_touched": added, "reps": len(reps), "seed": options["seed"]})
    return f"{added} contacts named on follow-ups"
