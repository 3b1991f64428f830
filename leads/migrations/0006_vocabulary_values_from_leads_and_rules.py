from django.db import migrations

from salesflow.org.vocabularies.migration import stored_values_add

KINDS = {"region": ("region", "regions"), "industry": ("industry", "industries"),
         "product_line": ("product_line", "product_lines"), "tier": ("tier", "tiers"), "channel": ("channel", "channels")}


def forwards(apps, schema_editor):
    """Every value leads and rules already hold becomes (or already is) a vocabulary value."""
    VocabularyEntry = apps.get_model("org", "VocabularyEntry")
    Lead = apps.get_model("leads", "Lead")
    RoutingRule = apps.get_model("leads", "RoutingRule")
    rules = list(RoutingRule.objects.all())
    for kind, (lead_field, rule_field) in KINDS.items():
        values = set(Lead.objects.order_by().values_list(lead_field, flat=True).distinct())
        for rule in rules:
            values.update(getattr(rule, rule_field))
        stored_values_add(VocabularyEntry, kind, values)


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_lead_channel_and_tier_from_vocabularies"), ("org", "0003_vocabulary_defaults_and_org_values")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
