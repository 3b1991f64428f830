"""Routing rules' pages kept nearly empty (fillfactor 10).

Every round-robin intake moves its rule's cursor (rr_last_user_id): a new version of a ~200-byte
row per lead. At the default fillfactor PostgreSQL prunes a page's dead versions only once the page
is nearly full, so the cursor's version chain grew to ~35 before each pruning and updates that met
a full page left the page (not HOT: a new index entry): 300 intakes left 8 pages and 7 index entries
for 5 rules. At 10 the page is pruned whenever it is over a tenth full: every update stays HOT and
the table at 1-2 pages.
"""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0018_search_grams_plpgsql'),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE leads_routingrule SET (fillfactor = 10)",
                          "ALTER TABLE leads_routingrule RESET (fillfactor)"),
    ]
