"""Form errors: each problem said once, in the reader's language."""
import re

from leads.models import Lead


def _errors(html: str) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)


def test_a_missing_contact_name_is_reported_once_in_chinese(alpha, client_for):
    response = client_for(alpha, alpha.rep).post("/leads/new/", {"contact_name": "", "phone": "13800138000", "channel": "manual"})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("这个字段是必填项") == 1 and "This field is required" not in html
    assert Lead.objects.count() == 0


def test_the_public_form_says_each_problem_once_in_english_when_chosen(alpha, client_for):
    client = client_for(alpha)
    client.cookies["django_language"] = "en"
    html = client.post("/form/", {"contact_name": "王五", "phone": "12", "email": ""}).content.decode()
    errors = " ".join(_errors(html))
    assert errors.count("Not a phone number") == 1 and "电话" not in errors
    assert Lead.objects.count() == 0


def test_the_validator_message_is_translated_when_the_form_has_no_rule_of_its_own(alpha, client_for):
    html = client_for(alpha, alpha.rep).post(
        "/leads/new/", {"contact_name": "张三", "phone": "", "email": "", "channel": "manual"}).content.decode()
    assert html.count("请填写电话或电子邮件") == 1 or html.count("电话号码或电子邮件") == 1
    assert "Give a phone number" not in html
