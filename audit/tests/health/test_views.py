"""Health pages: each viewer sees their own scope, a wrong role or tenant gets nothing."""
from django.urls import reverse



def test_a_manager_sees_their_teams_reps_and_not_another_teams(alpha, client_for, small_book):
    response = client_for(alpha, alpha.manager).get(reverse("health:board"))
    assert response.status_code == 200
    reps = [row.ident for row in response.context["board"].reps]
    assert alpha.rep.pk in reps and alpha.other_rep.pk not in reps


def test_an_admin_sees_every_team_and_can_narrow_to_one(alpha, client_for, small_book):
    client = client_for(alpha, alpha.admin)
    everyone = [row.ident for row in client.get(reverse("health:board")).context["board"].reps]
    assert {alpha.rep.pk, alpha.other_rep.pk} <= set(everyone)
    team = alpha.rep.member.team_id
    narrowed = client.get(reverse("health:board"), {"team": team, "period": "30d"})
    assert [row.ident for row in narrowed.context["board"].reps] == [alpha.rep.pk]


def test_the_board_answers_an_htmx_filter_with_its_region_only(alpha, client_for, small_book):
    response = client_for(alpha, alpha.manager).get(reverse("health:board"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="health-board"' in response.content and b"<html" not in response.content


def test_a_rep_may_not_open_the_managers_board_but_sees_their_own_card(alpha, client_for, small_book):
    client = client_for(alpha, alpha.rep)
    assert client.get(reverse("health:board")).status_code == 403
    mine = client.get(reverse("health:mine"), HTTP_HX_REQUEST="true")
    assert mine.status_code == 200 and b'id="my-health"' in mine.content
    assert [row.ident for row in mine.context["board"].reps] == [alpha.rep.pk]


def test_a_rep_drilling_down_sees_only_their_own_records(alpha, client_for, small_book):
    response = client_for(alpha, alpha.other_rep).get(reverse("health:uncovered"))
    assert response.status_code == 200
    assert all(row.owner != alpha.rep.member.full_name for row in response.context["rows"])


def test_a_manager_diagnoses_their_rep_but_not_another_teams(alpha, client_for, small_book):
    client = client_for(alpha, alpha.manager)
    response = client.get(reverse("health:diagnosis", args=[alpha.rep.pk]))
    assert response.status_code == 200
    diagnosis = response.context["diagnosis"]
    assert [r.opportunity for r in diagnosis.at_risk][:2] and len(diagnosis.at_risk) <= 3
    assert diagnosis.funnel[0].rep_reached >= 2
    assert client.get(reverse("health:diagnosis", args=[alpha.other_rep.pk])).status_code == 404


def test_a_rep_diagnoses_themself_only(alpha, client_for, small_book):
    client = client_for(alpha, alpha.rep)
    assert client.get(reverse("health:diagnosis", args=[alpha.rep.pk])).status_code == 200
    assert client.get(reverse("health:diagnosis", args=[alpha.other_rep.pk])).status_code == 404


def test_a_session_of_another_tenant_gets_nothing(alpha, beta, client_for, small_book):
    outsider = client_for(beta, beta.manager)  # signed in on beta's host
    response = outsider.get(reverse("health:board"), HTTP_HOST=alpha.host)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_bad_filter_value_is_an_error_on_the_form_not_a_500(alpha, client_for, small_book):
    response = client_for(alpha, alpha.manager).get(reverse("health:board"), {"team": "999999", "period": "1999-01"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors


def test_the_board_stays_within_its_query_budget(alpha, client_for, small_book, django_assert_max_num_queries):
    client = client_for(alpha, alpha.admin)
    client.get(reverse("health:board"))  # the figures are then remembered
    with django_assert_max_num_queries(14):
        assert client.get(reverse("health:board")).status_code == 200


def test_an_admin_sets_what_healthy_means_and_the_change_is_audited(
    alpha, client_for, small_book, django_capture_on_commit_callbacks
):
    from audit.models import AuditEntry

    client = client_for(alpha, alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):  # the cached settings are forgotten on commit
        response = client.post("/admin/org/tenantsettings/1/change/", {
            "display_name": "Alpha", "time_zone": "Asia/Shanghai", "default_language": "zh-hans", "weekend_days": "5,6",
            "new_hire_days": 180, "intake_rate_limit": 6000,
            "health_density_min": "1.5", "health_depth_min": "40", "health_first_touch_hours_max": "12",
        })
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(verb="settings.changed").latest("seq")
    assert entry.payload["after"]["health_depth_min"] == "40" and entry.actor_id == alpha.admin.pk
    limits = client_for(alpha, alpha.manager).get(reverse("health:board")).context["board"].limits
    assert (limits.density_min, limits.depth_min, limits.first_touch_hours_max) == (1.5, 40, 12)


def test_a_threshold_out_of_range_is_refused_with_its_reason(alpha, client_for):
    response = client_for(alpha, alpha.admin).post("/admin/org/tenantsettings/1/change/", {
        "display_name": "Alpha", "time_zone": "Asia/Shanghai", "default_language": "zh-hans", "weekend_days": "5,6",
        "new_hire_days": 180, "intake_rate_limit": 6000,
        "health_density_min": "4.2", "health_depth_min": "120", "health_first_touch_hours_max": "3.7",
    })
    assert response.status_code == 200 and "health_depth_min" in response.context["adminform"].form.errors
