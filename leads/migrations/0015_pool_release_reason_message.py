"""A pool claim's release reason becomes a stored message (read in the reader's language);
the English sentences the pool scan wrote before are turned back into that message."""
from django.db import migrations, models

from salesflow.i18n.legacy import pool_release_reason


def to_messages(apps, schema_editor):
    PoolClaim = apps.get_model("leads", "PoolClaim")
    for claim in PoolClaim.objects.exclude(release_sentence="").only("id", "release_sentence").iterator():
        PoolClaim.objects.filter(pk=claim.pk).update(release_reason=pool_release_reason(claim.release_sentence))


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0014_default_rules_named_in_chinese"),
    ]

    operations = [
        migrations.RenameField(model_name="poolclaim", old_name="release_reason", new_name="release_sentence"),
        migrations.AddField(
            model_name="poolclaim",
            name="release_reason",
            field=models.JSONField(blank=True, default=dict, verbose_name="release reason"),
        ),
        migrations.RunPython(to_messages, migrations.RunPython.noop),
        migrations.RemoveField(model_name="poolclaim", name="release_sentence"),
    ]
