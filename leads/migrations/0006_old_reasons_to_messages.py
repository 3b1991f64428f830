"""Routing reasons written before stored messages: their English sentences become messages.

Reasons that are not one SalesFlow wrote keep their text (shown as it is, the fallback)."""
from django.db import migrations

from salesflow.i18n import legacy

BATCH = 2000


def _candidates(candidates):
    changed = False
    for entry in candidates or []:
        why = entry.get("why")
        if isinstance(why, str) and why:
            converted = legacy.routing_reason(why)
            if converted is not None:
                entry["why"], changed = converted, True
    return changed


def forwards(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    RoutingDecision = apps.get_model("leads", "RoutingDecision")
    batch = []
    for lead in Lead.objects.filter(routing_reason_message={}).exclude(routing_reason="").only("id", "routing_reason").iterator(BATCH):
        converted = legacy.routing_reason(lead.routing_reason)
        if converted is not None:
            lead.routing_reason_message, lead.routing_reason = converted, ""
            batch.append(lead)
        if len(batch) >= BATCH:
            Lead.objects.bulk_update(batch, ["routing_reason_message", "routing_reason"])
            batch = []
    if batch:
        Lead.objects.bulk_update(batch, ["routing_reason_message", "routing_reason"])
    batch = []
    for decision in RoutingDecision.objects.filter(reason_message={}).only("id", "reason", "candidates").iterator(BATCH):
        fields = []
        converted = legacy.routing_reason(decision.reason)
        if converted is not None:
            decision.reason_message, decision.reason = converted, ""
            fields = ["reason_message", "reason"]
        if _candidates(decision.candidates) or fields:
            batch.append(decision)
        if len(batch) >= BATCH:
            RoutingDecision.objects.bulk_update(batch, ["reason_message", "reason", "candidates"])
            batch = []
    if batch:
        RoutingDecision.objects.bulk_update(batch, ["reason_message", "reason", "candidates"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_routing_reason_messages")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
