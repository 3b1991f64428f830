"""leads_pool_pick and leads_intake_claim: an intake's advisory locks, key check, Idempotency-Key and
duplicate lookups and its first pick in one call (leads.services.claim), where they were four
statements; the pick as a function that call and the later picks share (leads.services.pick)."""
from django.db import migrations

from leads.services.claim import CLAIM_FUNCTION_SQL, DROP_CLAIM_FUNCTION_SQL
from leads.services.pick import DROP_PICK_FUNCTION_SQL, PICK_FUNCTION_SQL


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0019_routing_rule_fillfactor'),
    ]

    operations = [
        migrations.RunSQL(PICK_FUNCTION_SQL, DROP_PICK_FUNCTION_SQL),
        migrations.RunSQL(CLAIM_FUNCTION_SQL, DROP_CLAIM_FUNCTION_SQL),
    ]
