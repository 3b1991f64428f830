from django.db import migrations

from salesflow.org.vocabularies.migration import stored_values_add


def forwards(apps, schema_editor):
    """Regions, industries and tiers accounts hold and opportunities' product lines become vocabulary values."""
    VocabularyEntry = apps.get_model("org", "VocabularyEntry")
    Account = apps.get_model("followups", "Account")
    Opportunity = apps.get_model("followups", "Opportunity")
    for kind in ("region", "industry", "tier"):
        stored_values_add(VocabularyEntry, kind, Account.objects.order_by().values_list(kind, flat=True).distinct())
    stored_values_add(VocabularyEntry, "product_line",
                      Opportunity.objects.order_by().values_list("product_line", flat=True).distinct())


class Migration(migrations.Migration):
    dependencies = [("followups", "0004_board_counts_index"), ("org", "0003_vocabulary_defaults_and_org_values")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
