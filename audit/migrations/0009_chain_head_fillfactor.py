"""The chain head's page kept nearly empty (fillfactor 10): every append writes a new version of
its one row, and at the default fillfactor the page collected ~50 dead versions before PostgreSQL
pruned it (and an update meeting a full page left it, adding an index entry). At 10 the page is
pruned whenever it is over a tenth full: every move stays HOT and the table at one page."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_head_guard_static_lookup")]
    operations = [migrations.RunSQL("ALTER TABLE audit_auditchainhead SET (fillfactor = 10)",
                                    "ALTER TABLE audit_auditchainhead RESET (fillfactor)")]
