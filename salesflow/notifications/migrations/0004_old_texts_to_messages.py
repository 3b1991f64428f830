"""Notifications written before stored messages: their English sentences become messages.

Rows whose text is not one SalesFlow wrote keep it (shown as it is, the fallback)."""
import zoneinfo

from django.db import migrations

from salesflow.i18n import legacy


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    TenantSettings = apps.get_model("org", "TenantSettings")
    Stage = apps.get_model("followups", "Stage")
    settings_row = TenantSettings.objects.filter(pk=1).first()
    tz = zoneinfo.ZoneInfo(settings_row.time_zone if settings_row else "Asia/Shanghai")
    stage_codes = {}
    for code, zh, en in Stage.objects.values_list("code", "name_zh", "name_en"):
        stage_codes.update({zh: code, en: code})
    batch = []
    for row in Notification.objects.filter(message={}).exclude(title="").only("id", "title", "body").iterator(2000):
        converted = legacy.notification(row.title, row.body, tz=tz, stage_codes=stage_codes)
        if converted is None:
            continue
        row.message, row.title, row.body = converted, "", ""
        batch.append(row)
        if len(batch) >= 2000:
            Notification.objects.bulk_update(batch, ["message", "title", "body"])
            batch = []
    if batch:
        Notification.objects.bulk_update(batch, ["message", "title", "body"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_stored_messages"),
        ("org", "0002_member_language_preference"),
        ("followups", "0004_board_counts_index"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
