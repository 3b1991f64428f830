"""Tenants seeded before the default routing rules were named in Chinese only: rename the rules
still called exactly as seeded (a rule an admin renamed keeps its name), and the same names
and pool names where routing decisions and leads quote them."""
from django.db import migrations

RENAMED_RULES = {
    "三甲医院 → 大客户通道 (key account)": "三甲医院 → 大客户通道",
    "乡镇卫生院 → 普惠通道 (inclusive)": "乡镇卫生院 → 普惠通道",
    "A 级 → 高成交率销售 (top performers)": "A 级 → 高成交率销售",
    "B 级 → 区域+产品线轮询 (round robin)": "B 级 → 区域+产品线轮询",
    "C 级 → 公海 (public pool)": "C 级 → 公海",
}
RENAMED_POOLS = {
    "key account": "大客户通道",
    "inclusive": "普惠通道",
    "top performers": "高成交率销售",
    "region + product line": "区域+产品线",
}


def renamed(value, pools: dict):
    """A stored message with every `pool` parameter that names a renamed pool renamed (nested ones too)."""
    if isinstance(value, list):
        return [renamed(item, pools) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: renamed(item, pools) for key, item in value.items()}
    params = result.get("params")
    if isinstance(params, dict) and isinstance(params.get("pool"), str):
        params["pool"] = pools.get(params["pool"], params["pool"])
    return result


def rename(apps, schema_editor):
    RoutingRule = apps.get_model("leads", "RoutingRule")
    RoutingDecision = apps.get_model("leads", "RoutingDecision")
    Lead = apps.get_model("leads", "Lead")
    pools = {}  # old pool name → new, for the rules renamed here only
    for rule in RoutingRule.objects.filter(name__in=RENAMED_RULES):
        old_name, old_pool = rule.name, rule.pool_label
        rule.name = RENAMED_RULES[old_name]
        if old_pool in RENAMED_POOLS:
            rule.pool_label = pools[old_pool] = RENAMED_POOLS[old_pool]
        rule.save(update_fields=["name", "pool_label"])
        RoutingDecision.objects.filter(rule=rule, rule_name=old_name).update(rule_name=rule.name)
    if not pools:
        return
    for decision in RoutingDecision.objects.exclude(reason_message={}).only("id", "reason_message").iterator():
        message = renamed(decision.reason_message, pools)
        if message != decision.reason_message:
            RoutingDecision.objects.filter(pk=decision.pk).update(reason_message=message)
    for lead in Lead.objects.exclude(routing_reason_message={}).only("id", "routing_reason_message").iterator():
        message = renamed(lead.routing_reason_message, pools)
        if message != lead.routing_reason_message:
            Lead.objects.filter(pk=lead.pk).update(routing_reason_message=message)


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0013_search_owners"),
    ]

    operations = [
        migrations.RunPython(rename, migrations.RunPython.noop),
    ]
