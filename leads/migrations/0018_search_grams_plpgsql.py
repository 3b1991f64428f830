"""public.salesflow_grams in PL/pgSQL: its plans are kept for the session instead of the SQL
function's body being parsed and planned again by every statement that stores a search document
(salesflow.search). The text it returns is the same for every input, so stored documents and
indexes stay valid."""
from django.db import migrations

from salesflow.search import GRAMS_TO_PLPGSQL_SQL


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0017_merge_20261201_1540'),
    ]

    operations = [
        migrations.RunSQL(GRAMS_TO_PLPGSQL_SQL, migrations.RunSQL.noop),
    ]
