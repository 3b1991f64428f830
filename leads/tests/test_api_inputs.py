"""Bodies that used to end in a server error are refused with a field error instead."""
import json

import pytest

from leads.models import IdempotencyRecord, Lead

from .test_api import GOOD, URL, api  # noqa: F401 (fixture)


def test_a_lone_surrogate_is_refused_naming_the_field(alpha, api):
    response = api('{"contact_name": "\\ud800", "phone": "13800138000"}')
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["contact_name"]
    assert Lead.objects.count() == 0


def test_a_lone_surrogate_in_a_field_name_is_refused_without_echoing_it(alpha, api):
    response = api('{"\\udfff": 1, "contact_name": "张三", "phone": "13800138000"}')
    assert response.status_code == 400 and list(response.json()["errors"]) == ["body"]


def test_a_nul_inside_a_nested_value_is_refused(alpha, api):
    response = api({**GOOD, "note": ["ok", {"deep": "a\u0000b"}]})
    assert response.status_code == 400 and "note" in response.json()["errors"]


def test_deep_nesting_is_refused_with_400_not_a_recursion_error(alpha, api):
    response = api("[" * 10000 + "]" * 10000)
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_brackets_inside_strings_do_not_count_as_nesting(alpha, api):
    response = api({**GOOD, "note": "[" * 500 + "{" * 500})
    assert response.status_code == 201


@pytest.mark.parametrize("raw", [b"NaN", b'{"industry_match": Infinity}', b'{"industry_match": ' + b"9" * 5000 + b"}"])
def test_numbers_json_does_not_have_are_refused(alpha, api, raw):
    assert api(raw).status_code == 400


def test_intake_requires_a_json_content_type(alpha, client_for, api):
    client = client_for(alpha)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = client.post(URL, data=json.dumps(GOOD), content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {api.secret}")
        assert response.status_code == 415, content_type
        assert "Content-Type" in response.json()["errors"]
    ok = client.post(URL, data=json.dumps(GOOD), content_type="application/json; charset=utf-8",
                     HTTP_AUTHORIZATION=f"Bearer {api.secret}")
    assert ok.status_code == 201 and Lead.objects.count() == 1


def test_the_same_json_with_keys_reordered_replays_the_idempotent_request(alpha, api):
    first = api(GOOD, **{"Idempotency-Key": "k1"})
    reordered = json.dumps(dict(reversed(list(GOOD.items()))), ensure_ascii=False, indent=2)
    again = api(reordered, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("phone", ["   ", "\t", " \u3000 "])
def test_a_blank_phone_without_an_email_is_refused(alpha, api, phone):
    response = api({"contact_name": "张三", "phone": phone})
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    assert Lead.objects.count() == 0


def test_body_and_field_errors_answer_in_one_language(api):
    english = api('{"contact_name": "\\ud800", "phone": "   "}', Accept_Language="en")
    assert english.status_code == 400 and "Unicode" in english.json()["errors"]["contact_name"][0]
    plain = api("[" * 100 + "]" * 100, Accept_Language="en")
    assert plain.status_code == 400 and "nest" in plain.json()["errors"]["body"][0].lower()
    chinese = api("[" * 100 + "]" * 100, Accept_Language="zh-CN")
    assert chinese.status_code == 400 and "嵌套" in chinese.json()["errors"]["body"][0]
    unasked = api('{"contact_name": "\\ud800", "phone": "   "}')  # the tenant's default language: Chinese
    assert not any(word in " ".join(unasked.json()["errors"]["contact_name"]) for word in ("Must", "Unicode text"))
