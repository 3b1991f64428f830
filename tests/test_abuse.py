"""Outsiders: the web form limited per visitor, sign-in throttled, `next` kept on this site."""
import ipaddress

import pytest
from django.urls import reverse

from leads.models import Lead
from salesflow.notifications.models import Notification

from conftest import ADMIN_PASSWORD
from salesflow.org.tests.factories import PASSWORD

PROXY = "10.9.0.2"
pytestmark = pytest.mark.usefixtures("_trusted_proxy")


@pytest.fixture
def _trusted_proxy(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.9.0.0/24")]
    settings.WEB_FORM_POSTS_PER_ADDRESS = 40


def _post_form(client, n: int, *, forwarded_for: str, remote: str = PROXY):
    return client.post(reverse("leads:web-form"), {"contact_name": f"访客{n}", "phone": f"1390000{n:04d}"},
                       REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_one_visitor_over_the_limit_waits_alone_with_retry_after(alpha, client_for):
    client = client_for(alpha)
    first, second = "198.51.100.7", "203.0.113.20"
    answers = [_post_form(client, n, forwarded_for=first).status_code for n in range(41)]
    assert answers[:40] == [302] * 40 and answers[40] == 429
    limited = _post_form(client, 41, forwarded_for=first)
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert _post_form(client, 42, forwarded_for=second).status_code == 302
    assert Lead.objects.count() == 41


def test_a_forged_forwarded_for_from_an_untrusted_address_is_ignored(alpha, client_for, settings):
    settings.WEB_FORM_POSTS_PER_ADDRESS = 3
    client = client_for(alpha)
    answers = [_post_form(client, n, forwarded_for=f"192.0.2.{n}", remote="203.0.113.99").status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]


def test_the_client_is_the_first_untrusted_hop_from_the_right(alpha, client_for, settings):
    settings.WEB_FORM_POSTS_PER_ADDRESS = 1
    client = client_for(alpha)
    # The visitor writes a fake address first; our proxy appends the real one.
    assert _post_form(client, 1, forwarded_for=f"1.2.3.4, 198.51.100.50, {PROXY}").status_code == 302
    assert _post_form(client, 2, forwarded_for="5.6.7.8, 198.51.100.50").status_code == 429


@pytest.fixture
def _settings_forgotten():
    from salesflow.org.services import tenant_settings_forget

    yield
    tenant_settings_forget()


def test_the_tenant_ceiling_still_holds_for_many_visitors(alpha, client_for, django_capture_on_commit_callbacks,
                                                          _settings_forgotten):
    from salesflow.org.services import tenant_settings_update

    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(actor=alpha.admin, reason="test", intake_rate_limit=3)
    client = client_for(alpha)
    answers = [_post_form(client, n, forwarded_for=f"198.51.100.{n + 1}").status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]


def _sign_in(client, username, password, remote="192.0.2.10"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=remote)


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(alpha, alpha_client):
    answers = [_sign_in(alpha_client, "rep", "wrong-password").status_code for _ in range(30)]
    assert answers[:10] == [200] * 10 and set(answers[10:]) == {429}
    right = _sign_in(alpha_client, "rep", PASSWORD)
    assert right.status_code == 429 and 60 <= int(right["Retry-After"]) <= 900
    assert "_auth_user_id" not in alpha_client.session
    assert "Too many failed sign-ins" in right.content.decode() or "登录失败次数过多" in right.content.decode()


def test_the_lock_on_one_account_leaves_another_account_alone(alpha, alpha_client, client_for):
    for _ in range(10):
        _sign_in(alpha_client, "rep", "wrong-password", remote="192.0.2.11")
    other = client_for(alpha)
    assert _sign_in(other, "manager", PASSWORD, remote="192.0.2.12").status_code == 302


def test_one_address_guessing_many_accounts_is_stopped(alpha, alpha_client, settings):
    settings.SIGNIN_FAILURES_PER_ADDRESS = 5
    answers = [_sign_in(alpha_client, f"user{n}", "nope", remote="192.0.2.13").status_code for n in range(6)]
    assert answers == [200] * 5 + [429]
    assert _sign_in(alpha_client, "rep", PASSWORD, remote="192.0.2.13").status_code == 429
    assert _sign_in(alpha_client, "rep", PASSWORD, remote="192.0.2.14").status_code == 302


def test_the_admin_sign_in_is_throttled_too(alpha, alpha_client):
    for _ in range(10):
        alpha_client.post("/admin/login/", {"username": alpha.admin.username, "password": "wrong"})
    response = alpha_client.post("/admin/login/", {"username": alpha.admin.username, "password": ADMIN_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in alpha_client.session


def test_the_message_is_translated(alpha, alpha_client):
    for _ in range(10):
        _sign_in(alpha_client, "rep", "wrong-password", remote="192.0.2.15")
    alpha_client.cookies["django_language"] = "zh-hans"
    assert "登录失败次数过多" in _sign_in(alpha_client, "rep", "wrong-password", remote="192.0.2.15").content.decode()


@pytest.mark.parametrize("target", ["//evil.example/phish", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_a_completed_task_never_redirects_off_site(alpha, client_for, target):
    from followups.models import Stage
    from followups.services import opportunity_stage_change
    from followups.tests.factories import opportunity_make

    opp = opportunity_make(owner=alpha.rep, credit=15)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="solution_demo"), via="web")
    response = client_for(alpha, alpha.rep).post(reverse("followups:task-done", args=[opp.tasks.first().pk]), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("followups:today")


def test_a_completed_task_goes_back_to_a_page_on_this_site(alpha, client_for):
    from followups.models import Stage
    from followups.services import opportunity_stage_change
    from followups.tests.factories import opportunity_make

    opp = opportunity_make(owner=alpha.rep, credit=15)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="solution_demo"), via="web")
    response = client_for(alpha, alpha.rep).post(reverse("followups:task-done", args=[opp.tasks.first().pk]), {"next": "/leads/"})
    assert response["Location"] == "/leads/"


@pytest.mark.parametrize("url_name", ["notifications:read"])
def test_marking_read_never_redirects_off_site(alpha, client_for, url_name):
    response = client_for(alpha, alpha.rep).post(reverse(url_name), {"next": "//evil.example/phish"})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:inbox")
    assert Notification.objects.count() == 0


def test_a_next_that_looks_like_a_view_name_is_followed_as_a_path_not_a_server_error(alpha, client_for):
    response = client_for(alpha, alpha.rep).post(reverse("notifications:read"), {"next": "0"})
    assert response.status_code == 302 and response["Location"] == "0"
