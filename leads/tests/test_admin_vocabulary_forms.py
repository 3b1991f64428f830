"""Rules, rep profiles and scoring weights pick from the tenant's lists in admin."""
import re

from django.utils import translation

from audit.models import AuditEntry
from leads.models import LeadPolicy, RoutingRule
from leads.services import lead_policy_get
from salesflow.org.models import Member, Region

RULE_FIELDS = {"name": "华东三甲", "position": 5, "enabled": "on", "strategy": "round_robin"}


def _zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def test_the_rule_form_offers_the_lists_as_choices_in_the_readers_language(alpha, client_for):
    client = _zh(client_for(alpha, alpha.admin))
    rule = RoutingRule.objects.get(tiers=["tertiary_hospital"])
    page = client.get(f"/admin/leads/routingrule/{rule.pk}/change/").content.decode()
    assert 'type="checkbox" name="tiers" value="tertiary_hospital"' in page and "三甲医院" in page
    assert 'value="华东区"' in page and 'name="channels" value="phone_400"' in page and "400 电话" in page


def test_a_rule_saves_canonical_codes_and_refuses_unknown_values(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    response = client.post("/admin/leads/routingrule/add/", {**RULE_FIELDS, "tiers": ["tertiary_hospital"],
                                                           "regions": ["华东区"], "budget_grades": ["A", "B"]})
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = RoutingRule.objects.get(name="华东三甲")
    assert rule.tiers == ["tertiary_hospital"] and rule.regions == ["华东区"] and rule.budget_grades == ["A", "B"]
    assert AuditEntry.objects.filter(verb="routing_rule.created", target_id=str(rule.pk)).exists()
    response = client.post("/admin/leads/routingrule/add/", {**RULE_FIELDS, "name": "坏规则", "industries": ["tertiary_hospital_typo"]},
                           )
    assert response.status_code == 200 and not RoutingRule.objects.filter(name="坏规则").exists()
    assert "tertiary_hospital_typo" in response.content.decode() and "医疗器械, 工业零部件, SaaS软件, 快消分销" in response.content.decode()


def test_explicit_reps_are_picked_by_name_and_only_reps_can_be_picked(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    page = client.get("/admin/leads/routingrule/add/").content.decode()
    rep_name = Member.objects.get(user=alpha.rep).full_name
    picker = re.search(r'<select name="pool_users".*?</select>', page, re.S).group(0)
    assert f'<option value="{alpha.rep.pk}">{rep_name} · A组</option>' in picker
    assert f'<option value="{alpha.manager.pk}">' not in picker and "manager" not in picker
    response = client.post("/admin/leads/routingrule/add/", {**RULE_FIELDS, "pool_users": [alpha.manager.pk]})
    assert response.status_code == 200 and not RoutingRule.objects.filter(name="华东三甲").exists()
    response = client.post("/admin/leads/routingrule/add/", {**RULE_FIELDS, "pool_users": [alpha.rep.pk]})
    assert response.status_code == 302
    assert list(RoutingRule.objects.get(name="华东三甲").pool_users.all()) == [alpha.rep]


def _policy_post(**overrides):
    policy = lead_policy_get()
    data = {"industry_match_weight": "0.40", "pool_hold_hours": policy.pool_hold_hours,
            "pool_cooling_hours": policy.pool_cooling_hours}
    for grade, points in policy.grade_points.items():
        data[f"grade_points__{grade}"] = points
    from salesflow.org.vocabularies import vocabulary_codes

    for column, kind in (("channel_points", "channel"), ("tier_points", "tier")):
        for code in vocabulary_codes(kind):
            data[f"{column}__{code}"] = getattr(policy, column).get(code, 0)
    return {**data, **overrides}


def test_scoring_weights_are_a_field_per_grade_channel_and_tier(alpha, client_for):
    client = _zh(client_for(alpha, alpha.admin))
    page = client.get("/admin/leads/leadpolicy/1/change/").content.decode()
    for name in ("grade_points__A", "channel_points__phone_400", "channel_points__web_form", "tier_points__township_clinic"):
        assert f'name="{name}"' in page
    assert 'max="100"' in page and 'min="0"' in page and "乡镇卫生院" in page


def test_scoring_weights_out_of_bounds_are_refused(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    response = client.post("/admin/leads/leadpolicy/1/change/", _policy_post(channel_points__referral=-999,
                                                                             grade_points__A=101))
    assert response.status_code == 200
    policy = LeadPolicy.objects.get(pk=1)
    assert policy.channel_points["referral"] == 12 and policy.grade_points["A"] == 30


def test_scoring_weights_are_saved_per_vocabulary_value_only_audited_and_used_at_once(alpha, client_for,
                                                                                      django_capture_on_commit_callbacks):
    lead_policy_get()  # remembered
    client = client_for(alpha, alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/leads/leadpolicy/1/change/", _policy_post(channel_points__referral=40,
                                                                                 channel_points__pigeon=50))
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = lead_policy_get()
    assert policy.channel_points["referral"] == 40 and "pigeon" not in policy.channel_points
    assert set(policy.tier_points) == {"tertiary_hospital", "secondary_hospital", "township_clinic", "key_account", "sme"}
    assert AuditEntry.objects.filter(verb="lead_policy.changed").exists()


def test_a_reps_industries_and_product_lines_are_picked_from_the_lists(alpha, client_for):
    member = Member.objects.select_related("user").get(user=alpha.rep)
    client = client_for(alpha, alpha.admin)
    page = client.get(f"/admin/org/member/{member.pk}/change/").content.decode()
    assert 'name="industries" value="医疗器械"' in page and 'name="product_lines" value="影像设备"' in page
    data = {"user": member.user_id, "full_name": member.full_name, "role": "rep", "team": member.team_id,
            "region": member.region_id, "years_experience": 3, "capacity": 50, "availability": "available",
            "industries": ["快消分销"], "product_lines": ["饮料", "日化"]}
    response = client.post(f"/admin/org/member/{member.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.industries == ["快消分销"] and member.product_lines == ["饮料", "日化"]
    response = client.post(f"/admin/org/member/{member.pk}/change/", {**data, "industries": ["矿业"]})
    assert response.status_code == 200


def test_an_organisation_region_is_a_value_of_the_region_list(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    with translation.override("en"):
        response = client.post("/admin/org/region/add/", {"name": "火星区"})
    assert response.status_code == 200 and not Region.objects.filter(name="火星区").exists()
    response = client.post("/admin/org/region/add/", {"name": "Central China"})  # a label: stored as the code
    assert response.status_code == 302 and Region.objects.filter(name="华中区").exists()


def test_the_lead_list_in_admin_filters_by_channel_with_labels(alpha, client_for):
    from leads.tests.factories import lead_submit

    lead_submit(company="展会来的", channel="exhibition")
    lead_submit(company="接口来的", channel="api")
    client = _zh(client_for(alpha, alpha.admin))
    page = client.get("/admin/leads/lead/", {"channel": "exhibition"}).content.decode()
    assert "展会来的" in page and "接口来的" not in page and "展会" in page
