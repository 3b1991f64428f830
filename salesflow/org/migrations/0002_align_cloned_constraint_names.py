"""Tenants cloned before provisioning aligned constraint names get the template's names now."""
from django.db import connection, migrations


def align(apps, schema_editor):
    from salesflow.tenancy.constraints import constraint_names_align

    constraint_names_align(connection.schema_name)


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(align, migrations.RunPython.noop)]
