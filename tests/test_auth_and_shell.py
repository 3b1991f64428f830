import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from audit.services import audit_record_atomic
from conftest import ADMIN_PASSWORD
from salesflow.org.models import Availability, Member
from salesflow.org.services import tenant_settings_update
from salesflow.org.tests.factories import PASSWORD


def test_the_login_page_has_username_and_password_fields(alpha_client):
    page = alpha_client.get("/accounts/login/").content.decode()
    assert 'name="username"' in page and 'name="password"' in page


def test_a_rep_signs_in_and_lands_on_their_home(alpha, alpha_client):
    response = alpha_client.post("/accounts/login/", {"username": "rep", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    assert Member.objects.get(user=alpha.rep).full_name in response.content.decode()


def test_the_tenant_admin_signs_in_with_their_email(alpha, alpha_client):
    response = alpha_client.post("/accounts/login/", {"username": "admin@alpha.example.com", "password": ADMIN_PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_is_refused_with_a_message(alpha_client):
    response = alpha_client.post("/accounts/login/", {"username": "rep", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_a_user_of_another_tenant_cannot_sign_in_here(alpha_client, beta):
    response = alpha_client.post("/accounts/login/", {"username": "admin@beta.example.com", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in alpha_client.session


def test_sign_out_ends_the_session(alpha, client_for):
    client = client_for(alpha, alpha.rep)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_language_switch_changes_the_interface(alpha, client_for):
    client = client_for(alpha, alpha.rep)
    assert "退出" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/")
    assert "Sign out" in page.content.decode() and page["Content-Language"] == "en"


def test_the_tenant_default_language_applies_without_a_choice(alpha, client_for, django_capture_on_commit_callbacks):
    client = client_for(alpha, alpha.rep)
    assert "退出" in client.get("/").content.decode()  # caches the settings
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(actor=alpha.admin, default_language="en")
    assert "Sign out" in client.get("/").content.decode()
    assert "Sign out" in client_for(alpha, alpha.rep).get("/").content.decode()


def test_times_are_shown_in_the_tenant_time_zone(alpha, client_for, django_capture_on_commit_callbacks):
    moment = dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.timezone.utc)
    audit_record_atomic(actor=alpha.rep, verb="test.time_shown", at=moment)
    page = client_for(alpha, alpha.rep).get("/").content.decode()
    assert "2026-11-23 09:30" in page  # Asia/Shanghai
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(actor=alpha.admin, time_zone="Europe/Berlin")
    page = client_for(alpha, alpha.rep).get("/").content.decode()
    assert "2026-11-23 02:30" in page


def test_a_manager_home_lists_their_people_and_not_others(alpha, client_for, django_assert_max_num_queries):
    client = client_for(alpha, alpha.manager)
    with django_assert_max_num_queries(20):
        page = client.get("/").content.decode()
    rep_name = Member.objects.get(user=alpha.rep).full_name
    other_name = Member.objects.get(user=alpha.other_rep).full_name
    assert rep_name in page and other_name not in page


def test_a_rep_home_shows_no_team_table(alpha, client_for):
    page = client_for(alpha, alpha.rep).get("/").content.decode()
    assert 'id="team-table"' not in page


def test_the_team_partial_is_served_to_htmx(alpha, client_for):
    response = client_for(alpha, alpha.manager).get("/team/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<div") and "<html" not in body


def test_a_rep_sets_their_leave_and_it_is_audited(alpha, client_for):
    today = timezone.localdate()
    response = client_for(alpha, alpha.rep).post("/me/availability/", {
        "availability": Availability.ON_LEAVE, "away_from": today.isoformat(),
        "away_until": (today + dt.timedelta(days=3)).isoformat(), "reason": "年假",
    })
    assert response.status_code == 302
    member = Member.objects.get(user=alpha.rep)
    assert member.availability == Availability.ON_LEAVE and member.away_until == today + dt.timedelta(days=3)
    entry = AuditEntry.objects.filter(verb="member.availability_changed").latest("seq")
    assert entry.actor_id == alpha.rep.pk and entry.reason == "年假"


def test_an_absence_that_ends_before_it_starts_is_refused(alpha, client_for):
    response = client_for(alpha, alpha.rep).post("/me/availability/", {
        "availability": Availability.ON_LEAVE, "away_from": "2026-12-10", "away_until": "2026-12-01",
    })
    assert response.status_code == 400
    assert Member.objects.get(user=alpha.rep).availability == Availability.AVAILABLE


def test_admin_changes_to_settings_are_audited(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    form = client.get("/admin/org/tenantsettings/1/change/")
    assert form.status_code == 200
    response = client.post("/admin/org/tenantsettings/1/change/", {
        "display_name": "Alpha 新名字", "time_zone": "Asia/Shanghai", "default_language": "zh-hans",
        "weekend_days": "5,6", "new_hire_days": 180, "intake_rate_limit": 6000,
        "health_density_min": "4.2", "health_depth_min": "78", "health_first_touch_hours_max": "3.7",
    })
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(verb="settings.changed").latest("seq")
    assert entry.payload["after"]["display_name"] == "Alpha 新名字" and entry.actor_id == alpha.admin.pk


def test_admin_changes_to_the_roster_are_audited(alpha, client_for):
    member = Member.objects.get(user=alpha.rep)
    client = client_for(alpha, alpha.admin)
    response = client.post(f"/admin/org/member/{member.pk}/change/", {
        "user": alpha.rep.pk, "full_name": "改名", "role": "rep", "team": member.team_id, "region": member.region_id or "",
        "industries": "医疗器械", "product_lines": "影像设备", "years_experience": 4, "hire_date": "2022-03-01",
        "capacity": 55, "availability": "available", "away_from": "", "away_until": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(verb="member.changed").latest("seq")
    assert {"full_name", "years_experience", "capacity"} <= set(entry.payload["fields"])
    assert entry.payload["fields"]["full_name"] == "改名" and entry.actor_id == alpha.admin.pk
    assert "team" not in entry.payload["fields"]


def test_a_rep_cannot_open_the_admin(alpha, client_for):
    assert client_for(alpha, alpha.rep).get("/admin/").status_code == 302


def test_a_removed_domain_stops_serving_at_once_though_hosts_are_remembered(alpha):
    from django.test import Client

    from salesflow.tenancy.models import Domain

    with schema_context("public"):
        extra = Domain.objects.create(domain="alpha-extra.localhost", tenant=alpha.tenant, is_primary=False)
    client = Client(HTTP_HOST="alpha-extra.localhost")
    assert client.get("/accounts/login/").status_code == 200  # resolved, and remembered for 30 s
    with schema_context("public"):
        extra.delete()
    assert client.get("/accounts/login/").status_code == 404
