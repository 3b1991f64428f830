from django.db import migrations

from salesflow.org.vocabularies.migration import defaults_add, stored_values_add


def forwards(apps, schema_editor):
    VocabularyEntry = apps.get_model("org", "VocabularyEntry")
    Member = apps.get_model("org", "Member")
    Region = apps.get_model("org", "Region")
    defaults_add(VocabularyEntry)
    stored_values_add(VocabularyEntry, "region", Region.objects.values_list("name", flat=True))
    industries, products = set(), set()
    for member_industries, member_products in Member.objects.values_list("industries", "product_lines"):
        industries.update(member_industries)
        products.update(member_products)
    stored_values_add(VocabularyEntry, "industry", industries)
    stored_values_add(VocabularyEntry, "product_line", products)


class Migration(migrations.Migration):
    dependencies = [("org", "0002_vocabulary")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
