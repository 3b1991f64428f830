"""Claims from the pool and manual reassignments named the person by username in the routing
story ("由 rep017 从公海领取"); they now name them as everyone else is named, by full name."""
from django.db import migrations

KEYS = ("routing.claimed", "routing.reassigned")


def name_people(apps, schema_editor):
    RoutingDecision = apps.get_model("leads", "RoutingDecision")
    Member = apps.get_model("org", "Member")
    names = dict(Member.objects.exclude(full_name="").values_list("user__username", "full_name"))
    decisions = RoutingDecision.objects.filter(reason_message__key__in=KEYS).only("id", "reason_message")
    for decision in decisions.iterator():
        params = decision.reason_message.get("params") or {}
        if params.get("actor") in names:
            params["actor"] = names[params["actor"]]
            RoutingDecision.objects.filter(pk=decision.pk).update(reason_message=decision.reason_message)


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0015_pool_release_reason_message"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(name_people, migrations.RunPython.noop),
    ]
