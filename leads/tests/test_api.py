import json
import random
import time

import pytest
from django.utils import timezone, translation

from leads.models import IdempotencyRecord, Lead, LeadTouch
from leads.services import intake_key_create, intake_key_revoke
from salesflow.notifications.models import Notification
from salesflow.org.services import tenant_settings_forget, tenant_settings_update

URL = "/api/v1/leads"
GOOD = {"company": "上海第一人民医院", "contact_name": "李主任", "phone": "138-0013-8000", "email": "li@hospital.cn",
        "channel": "ad_platform", "industry": "医疗器械", "region": "上海", "product_line": "影像设备",
        "budget_grade": "B", "industry_match": 80, "tier": "secondary_hospital", "external_id": "ad-1", "note": "官网咨询"}


@pytest.fixture
def api(alpha, client_for):
    _, secret = intake_key_create(actor=alpha.admin, label="test")
    client = client_for(alpha)

    def post(body, *, key=secret, **headers):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if key is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        return client.post(URL, data=raw, content_type="application/json", **extra)

    post.secret = secret
    yield post
    tenant_settings_forget()


def test_a_valid_lead_is_created_and_routed_at_once(alpha, api):
    response = api(GOOD)
    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body["status"] == "assigned" and body["owner"] == "rep" and lead.owner == alpha.rep
    assert body["routing"]["rule"].startswith("B 级")
    with translation.override("zh-hans"):  # a machine that names no language reads the tenant's default
        assert body["routing"]["reason"] == lead.routing_reason_text
    assert body["routing"]["reason"].startswith("在“")
    asked_en = api({**GOOD, "phone": "13800138009", "external_id": "en-1"}, Accept_Language="en-US").json()
    assert asked_en["routing"]["reason"].startswith("round robin in")
    assert lead.routing_reason_message["params"]["reason"]["v"]["key"] == "routing.round_robin"
    assert lead.phone_normalized == "+8613800138000" and lead.score_breakdown["total"] == lead.score
    assert Notification.objects.filter(recipient=alpha.rep, payload__lead_id=lead.pk).exists()
    assert "duplicate" not in body


def test_the_same_phone_written_differently_is_a_duplicate_attached_as_a_touch(alpha, api):
    first = api(GOOD).json()
    again = api({**GOOD, "external_id": "", "email": "", "phone": "+86 138 0013 8000", "note": "又来了"})
    assert again.status_code == 200 and again.json() == {**first, "duplicate": True}
    assert Lead.objects.count() == 1
    touch = LeadTouch.objects.get(lead_id=first["id"])
    assert touch.kind == "resubmission" and touch.payload["matched_on"] == "phone"


def test_the_same_email_in_other_case_is_a_duplicate(alpha, api):
    api({**GOOD, "phone": ""})
    response = api({**GOOD, "phone": "", "external_id": "", "email": "LI@Hospital.CN"})
    assert response.status_code == 200 and response.json()["duplicate"] is True


def test_a_replayed_external_id_answers_the_existing_lead(alpha, api):
    first = api(GOOD).json()
    response = api({**GOOD, "phone": "13911112222", "email": ""})
    assert response.status_code == 200 and response.json()["id"] == first["id"]
    assert LeadTouch.objects.count() == 0  # a replay, not a new submission


def test_an_idempotency_key_replays_and_refuses_another_body(alpha, api):
    first = api(GOOD, **{"Idempotency-Key": "abc"})
    replay = api(GOOD, **{"Idempotency-Key": "abc"})
    other = api({**GOOD, "phone": "13700000000", "external_id": "x"}, **{"Idempotency-Key": "abc"})
    assert first.status_code == 201 and replay.status_code == 200 and replay.json()["duplicate"] is True
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
    assert IdempotencyRecord.objects.count() == 1


def test_invalid_input_names_every_bad_field(alpha, api):
    response = api({"contact_name": "", "phone": 13800138000, "budget_grade": "D", "industry_match": 101,
                    "tier": "moon", "company": "x" * 201, "channel": "pigeon", "colour": "red"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"contact_name", "phone", "budget_grade", "industry_match", "tier", "company", "channel", "colour"}
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("value", [True, "80", 80.5, [80]])
def test_industry_match_must_be_a_whole_number(alpha, api, value):
    response = api({**GOOD, "industry_match": value})
    assert response.status_code == 400 and "industry_match" in response.json()["errors"]


def test_a_lead_needs_a_phone_or_an_email(alpha, api):
    response = api({"contact_name": "张三"})
    assert response.status_code == 400 and "phone" in response.json()["errors"]


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b"null", b" "])
def test_malformed_bodies_are_refused_with_400(alpha, api, raw):
    response = api(raw)
    assert response.status_code == 400 and response.json()["errors"]


def test_an_oversized_body_is_refused_with_413(alpha, api):
    response = api({**GOOD, "note": "x" * 70000})
    assert response.status_code == 413 and Lead.objects.count() == 0


def test_unknown_missing_and_revoked_keys_answer_401(alpha, api):
    assert api(GOOD, key=None).status_code == 401
    assert api(GOOD, key="sf_00000000_alpha_nope").status_code == 401
    key, secret = intake_key_create(actor=alpha.admin, label="old")
    intake_key_revoke(actor=alpha.admin, key=key)
    assert api(GOOD, key=secret).status_code == 401
    assert Lead.objects.count() == 0


def test_a_key_revoked_by_another_process_is_refused_at_once_though_remembered_here(alpha, api):
    from audit.models import AuditEntry as Entry

    key, secret = intake_key_create(actor=alpha.admin, label="shared")
    assert api(GOOD, key=secret).status_code == 201  # this process now remembers the key
    entries = Entry.objects.count()
    key.__class__.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # as another process would
    response = api({**GOOD, "phone": "13900001111", "email": "other@hospital.cn", "external_id": "after-revoke"}, key=secret)
    assert response.status_code == 401 and response.json()["errors"]["authorization"]
    assert Lead.objects.count() == 1 and Entry.objects.count() == entries


def test_another_tenants_key_answers_401(alpha, beta, api):
    from django_tenants.utils import schema_context
    with schema_context("beta"):
        _, beta_secret = intake_key_create(actor="test", label="beta")
    response = api(GOOD, key=beta_secret)
    assert response.status_code == 401 and Lead.objects.count() == 0


def test_over_the_rate_limit_answers_429_with_retry_after(alpha, api, django_capture_on_commit_callbacks):
    while time.time() % 60 > 50:  # fixed one-minute windows: stay clear of a boundary
        time.sleep(0.5)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(actor=alpha.admin, reason="test", intake_rate_limit=2)
    assert api({**GOOD, "external_id": "1", "phone": "13600000001", "email": ""}).status_code == 201
    assert api({**GOOD, "external_id": "2", "phone": "13600000002", "email": ""}).status_code == 201
    limited = api({**GOOD, "external_id": "3", "phone": "13600000003", "email": ""})
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert Lead.objects.count() == 2


def test_get_is_not_allowed(alpha, client_for):
    assert client_for(alpha).get(URL).status_code == 405


def test_the_openapi_document_describes_the_endpoint(alpha, client_for):
    doc = client_for(alpha).get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/leads"]["post"]
    assert doc["openapi"].startswith("3.")
    assert set(operation["responses"]) == {"200", "201", "400", "401", "413", "415", "422", "429"}
    props = doc["components"]["schemas"]["LeadIn"]["properties"]
    assert set(props) == set(GOOD) and props["industry_match"]["maximum"] == 100


def _fuzz_value(rng, prop):
    kinds = [None, True, -1, 0, 100, 101, 3.5, "", "A", "x" * rng.choice([1, 64, 101, 300]), "\u0000", "😀" * 5, [], {}]
    if "enum" in prop and rng.random() < 0.5:
        return rng.choice(prop["enum"])
    return rng.choice(kinds)


def test_a_schema_driven_fuzz_run_finds_no_server_error(alpha, api, client_for):
    doc = client_for(alpha).get("/api/v1/openapi.json").json()
    props = doc["components"]["schemas"]["LeadIn"]["properties"]
    rng = random.Random(4)
    statuses = set()
    for round_ in range(150):
        if rng.random() < 0.5:  # wild: any field, any value
            body = {name: _fuzz_value(rng, prop) for name, prop in props.items() if rng.random() < 0.7}
        else:  # near-valid: a good lead with at most one field mutated
            body = {**GOOD, "phone": f"137{round_:08d}", "email": "", "external_id": f"f{round_}"}
            if rng.random() < 0.6:
                name = rng.choice(list(props))
                body[name] = _fuzz_value(rng, props[name])
        response = api(body)
        statuses.add(response.status_code)
        assert response.status_code in (200, 201, 400), (body, response.content)
    assert {201, 400} <= statuses


def test_a_used_key_shows_when_it_was_last_used(alpha, api):
    from leads.models import IntakeKey

    key = IntakeKey.objects.get(label="test")
    assert key.last_used_at is None
    assert api(GOOD).status_code == 201
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None
    assert api({**GOOD, "external_id": "ad-2", "phone": "13900139000", "email": "x@y.cn"}).status_code == 201
    key.refresh_from_db()
    assert key.last_used_at == first_use  # within the minute: no second write


def test_without_accept_language_the_api_answers_in_the_tenants_default_language(alpha, api):
    refused = api({"contact_name": "张三", "budget_grade": "D"})
    assert refused["Content-Language"] == "zh-hans"
    assert refused.json()["errors"]["budget_grade"][0].startswith("必须是以下之一")
    unknown_key = api(GOOD, key="nope")
    assert unknown_key.status_code == 401 and unknown_key.json()["errors"]["authorization"] == ["接入密钥缺失、无法识别或已被吊销。"]
    asked = api(GOOD, key="nope", Accept_Language="en")
    assert asked["Content-Language"] == "en"
    assert asked.json()["errors"]["authorization"] == ["Missing, unknown or revoked intake key."]
    unspoken = api(GOOD, key="nope", Accept_Language="fr-FR, *;q=0.5")  # nothing we speak: the default again
    assert unspoken["Content-Language"] == "zh-hans"

    tenant_settings_update(actor=alpha.admin, default_language="en")
    tenant_settings_forget()
    english = api({"contact_name": "张三", "budget_grade": "D"})
    assert english["Content-Language"] == "en" and english.json()["errors"]["budget_grade"][0].startswith("Must be one of")


def test_intake_skips_the_browser_middlewares_and_keeps_their_headers(alpha, api):
    response = api(GOOD)

    assert response.status_code == 201
    # Served straight after tenant resolution (salesflow.middleware.MachineApiMiddleware): no
    # signed-in user, flash messages or cookies were set up for a machine's request ...
    request = response.wsgi_request
    assert not hasattr(request, "user") and not hasattr(request, "_messages")
    assert not response.cookies
    # ... and its answer carries the headers those middlewares would have added, and the others'.
    assert response["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert int(response["Content-Length"]) == len(response.content)
    assert response["Content-Language"] == "zh-hans" and "Accept-Language" in response["Vary"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_api_paths_still_go_down_the_whole_stack(alpha, client_for):
    response = client_for(alpha).get("/api/v1/openapi.json")

    assert response.status_code == 200 and hasattr(response.wsgi_request, "user")
