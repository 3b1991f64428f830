"""Every capture path takes the tenant's vocabularies and routes alike (SPEC §2)."""
import json

import pytest
from django.utils import translation

from leads.models import Lead
from leads.services import intake_key_create, lead_payload_validate
from salesflow.org.models import Member
from salesflow.org.selectors import rep_roster_forget

URL = "/api/v1/leads"
B_LEAD = {"company": "华东某医院", "contact_name": "李主任", "budget_grade": "B", "industry": "医疗",
          "region": "华东", "product_line": "影像"}


@pytest.fixture
def api(alpha, client_for):
    _, secret = intake_key_create(actor=alpha.admin, label="test")
    client = client_for(alpha)

    def post(body, **headers):
        return client.post(URL, data=json.dumps(body, ensure_ascii=False), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)

    return post


def test_the_api_maps_synonyms_to_the_canonical_codes_and_routes_by_them(alpha, api):
    response = api({**B_LEAD, "phone": "13800000001", "region": "华东区 ", "channel": "广告", "tier": "三级医院",
                    "budget_grade": "A"})
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.region, lead.industry, lead.product_line, lead.channel, lead.tier) == (
        "华东区", "医疗器械", "影像设备", "ad_platform", "tertiary_hospital")


def test_a_synonym_region_reaches_the_rep_of_that_region_instead_of_the_pool(alpha, api):
    response = api({**B_LEAD, "phone": "13800000002", "region": "East China"})
    body = response.json()
    assert response.status_code == 201 and body["owner"] == "rep" and body["routing"]["rule"].startswith("B 级")


def test_an_unknown_value_is_refused_naming_the_allowed_values(alpha, api):
    response = api({**B_LEAD, "phone": "13800000003", "region": "火星", "channel": "pigeon"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"region", "channel"}
    assert errors["region"] == [f"Region “火星” is not in the list; allowed: {', '.join(_codes(alpha, 'region'))}."]
    assert "allowed: web_form, api, ad_platform, phone_400, wecom, csv, manual, referral, exhibition." in errors["channel"][0]
    assert Lead.objects.count() == 0


def test_the_api_answers_in_the_language_the_request_asks_for(alpha, api):
    response = api({**B_LEAD, "phone": "13800000004", "tier": "moon"}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 400 and "不在列表中" in response.json()["errors"]["tier"][0]
    response = api({**B_LEAD, "phone": "13800000004", "tier": "moon"}, HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.json()["errors"]["tier"][0].startswith("Customer tier “moon” is not in the list; allowed:")


def _codes(alpha, kind):
    from salesflow.org.vocabularies import vocabulary_codes

    return vocabulary_codes(kind)


@pytest.mark.parametrize("contact", [{}, {"phone": "", "email": ""}, {"phone": "   ", "email": "\t "}, {"phone": None}])
def test_a_lead_without_a_non_blank_phone_or_email_is_refused_by_the_api(alpha, api, contact):
    response = api({**B_LEAD, **contact}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    message = response.json()["errors"]["phone"][0]
    assert "phone" in message and "e-mail" in message
    assert Lead.objects.count() == 0


def test_whitespace_contact_details_are_refused_by_the_shared_validator(alpha):
    _, errors = lead_payload_validate({"contact_name": "x", "phone": " ", "email": "  "})
    assert "phone" in errors


def test_the_manual_form_refuses_a_lead_without_phone_or_email(alpha, client_for):
    response = client_for(alpha, alpha.manager).post("/leads/new/", {"contact_name": "赵", "phone": "  ", "channel": "manual"})
    assert response.status_code == 400 and not Lead.objects.exists()
    assert response.context["form"].errors["phone"]


def test_the_web_form_refuses_a_lead_without_phone_or_email(alpha, client_for):
    response = client_for(alpha).post("/form/", {"contact_name": "孙女士", "email": " "})
    assert response.status_code == 400 and not Lead.objects.exists()


def test_the_openapi_document_lists_the_tenants_codes_and_the_contact_rule(alpha, client_for):
    schema = client_for(alpha).get("/api/v1/openapi.json").json()["components"]["schemas"]["LeadIn"]
    assert "华东区" in schema["properties"]["region"]["enum"] and "上海" in schema["properties"]["region"]["enum"]
    assert "tertiary_hospital" in schema["properties"]["tier"]["enum"]
    assert "synonym" in schema["properties"]["tier"]["description"]
    assert schema["anyOf"][0] == {"required": ["phone"], "properties": {"phone": {"type": "string", "pattern": r"\S"}}}


def _routing(lead: Lead) -> tuple:
    return lead.routing_rule_id, lead.owner_id, lead.status, lead.score, (lead.region, lead.industry, lead.product_line)


def test_a_lead_typed_by_a_person_routes_exactly_as_the_same_lead_from_the_api(alpha, api, client_for):
    """Default rules: the B-grade round robin over region + product line."""
    typed = {**B_LEAD, "region": "华东区", "industry": "医疗器械", "product_line": "影像设备", "channel": "manual"}
    client_for(alpha, alpha.manager).post("/leads/new/", {**typed, "phone": "13800000011"})
    api({**B_LEAD, "channel": "manual", "phone": "13800000012"})  # synonyms, as a machine might send them
    manual, machine = Lead.objects.get(phone="13800000011"), Lead.objects.get(phone="13800000012")
    assert _routing(manual) == _routing(machine)
    assert manual.owner == alpha.rep and manual.routing_rule.name.startswith("B 级")


def test_a_lead_from_the_web_form_routes_exactly_as_the_same_lead_from_the_api(alpha, api, client_for):
    """Default rules: a tertiary hospital goes to the key-account channel (≥ 5 years, same industry)."""
    Member.objects.filter(user=alpha.rep).update(years_experience=8)
    rep_roster_forget()
    fields = {"company": "某三甲医院", "contact_name": "周主任", "industry": "医疗器械", "region": "华东区",
              "product_line": "影像设备", "tier": "tertiary_hospital"}
    with translation.override("zh-hans"):
        response = client_for(alpha).post("/form/", {**fields, "phone": "13800000021"})
    assert response.status_code == 302
    api({**fields, "tier": "三甲医院", "region": "华东", "channel": "web_form", "phone": "13800000022"})
    web, machine = Lead.objects.get(phone="13800000021"), Lead.objects.get(phone="13800000022")
    assert web.channel == machine.channel == "web_form"
    assert _routing(web)[:4] == _routing(machine)[:4]
    assert web.owner == alpha.rep and web.routing_rule.name.startswith("三甲医院")
