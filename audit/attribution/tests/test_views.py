"""The attribution page: who may see it, what the filters do, both languages."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from salesflow.org.models import Region, Team

from .factories import closed_deal, touch

URL = reverse("attribution:page")
START = timezone.now() - dt.timedelta(days=60)


@pytest.fixture
def deals(alpha):
    won = closed_deal(owner=alpha.rep, won=True, created_at=START, days_open=10)
    lost = closed_deal(owner=alpha.rep, won=False, created_at=START, days_open=10, product_line="检验试剂")
    touch(won, day=1, roles=["cio"])
    touch(lost, day=1, roles=["purchasing"])
    other = closed_deal(owner=alpha.other_rep, won=True, created_at=START, days_open=10)
    touch(other, day=1, roles=["cio"])
    return won, lost, other


def _totals(response):
    return [(p["side"].won, p["side"].lost) for p in response.context["panels"]]


def test_a_manager_sees_their_scope_only(alpha, client_for, deals, django_assert_max_num_queries):
    client = client_for(alpha, alpha.manager)
    # Fixed whatever the data: tenant and settings, session, user, member, scope, region choices
    # (twice: defaults and form), team choices, closing stages, savepoint, set_config, the
    # counting statement, release, template titles.
    with django_assert_max_num_queries(17):
        response = client.get(URL, {"closed_from": "", "window": "30"})
    assert response.status_code == 200
    assert _totals(response) == [(1, 1)]
    other = client_for(alpha, alpha.other_manager).get(URL, {"window": "30"})
    assert _totals(other) == [(1, 0)]


def test_the_page_opens_on_two_regions_side_by_side(alpha, client_for, deals):
    response = client_for(alpha, alpha.admin).get(URL)
    regions = [p["region"].name for p in response.context["panels"]]
    assert len(regions) == 2 and regions == sorted(regions)
    form = response.context["filter"].form
    assert form["window"].value() == "30"
    assert form["closed_to"].value() == timezone.localdate().isoformat()


def test_reps_are_refused(alpha, client_for, deals):
    response = client_for(alpha, alpha.rep).get(URL)
    assert response.status_code == 403


def test_another_tenants_user_gets_nothing(alpha, beta, client_for, deals):
    response = client_for(beta, beta.admin).get(URL, {"window": "30"})
    assert response.status_code == 200 and _totals(response) == [(0, 0)]
    anonymous = client_for(alpha).get(URL)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_filters_narrow_the_deals(alpha, client_for, deals):
    client = client_for(alpha, alpha.admin)
    team_a = Team.objects.get(name="A组")
    assert _totals(client.get(URL, {"team": team_a.pk})) == [(1, 1)]
    assert _totals(client.get(URL, {"product_line": "检验试剂"})) == [(0, 1)]
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert _totals(client.get(URL, {"closed_from": future, "closed_to": future})) == [(0, 0)]
    east, north = Region.objects.get(name="华东区"), Region.objects.get(name="华北区")
    assert _totals(client.get(URL, {"region": east.pk, "compare": north.pk})) == [(1, 1), (1, 0)]


def test_a_manager_cannot_pick_a_region_outside_their_scope(alpha, client_for, deals):
    north = Region.objects.get(name="华北区")
    response = client_for(alpha, alpha.manager).get(URL, {"region": north.pk})
    assert response.status_code == 200 and response.context["panels"] == []
    assert "region" in response.context["filter"].form.errors


@pytest.mark.parametrize("query", [
    {"window": "0"}, {"window": "9999"}, {"window": "abc"}, {"closed_from": "2026-13-40"},
    {"closed_from": "2026-06-01", "closed_to": "2026-01-01"}, {"team": "999999"}, {"compare": "x"},
])
def test_bad_filters_are_named_not_a_500(alpha, client_for, deals, query):
    response = client_for(alpha, alpha.admin).get(URL, query)
    assert response.status_code == 200
    assert response.context["panels"] == [] and response.context["filter"].form.errors


def test_htmx_gets_the_results_only(alpha, client_for, deals):
    response = client_for(alpha, alpha.admin).get(URL, {"window": "30"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="attribution-results"' in body and "<html" not in body
    assert response["Vary"].count("HX-Request") == 1


def test_the_page_speaks_english_and_chinese(alpha, client_for, deals):
    client = client_for(alpha, alpha.admin)
    client.cookies["django_language"] = "en"
    english = client.get(URL).content.decode()
    assert "Association, not cause." in english and "too small" in english and "CIO" in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(URL).content.decode()
    assert "相关，不是因果" in chinese and "样本太少" in chinese
    assert "Association, not cause." not in chinese and "too small" not in chinese


def test_managers_find_the_page_in_the_navigation(alpha, client_for):
    assert URL in client_for(alpha, alpha.manager).get(reverse("home")).content.decode()
    assert URL not in client_for(alpha, alpha.rep).get(reverse("home")).content.decode()


def test_the_four_way_combinations_table_counts_filters_and_greys_small_cells(alpha, client_for, deals):
    client = client_for(alpha, alpha.manager)
    response = client.get(URL, {"window": "30"})
    [panel] = response.context["panels"]
    rows = panel["cross"].rows
    # won: CIO (a key person) touched by a call; lost: purchasing (key) touched; both chains have 2 key people.
    assert [(c.channel, c.first_touch, c.combination, c.coverage, c.won, c.lost) for c in rows] == [
        ("", "call", "", "some", 1, 1)]
    assert rows[0].too_small
    html = response.content.decode()
    assert "attr-cross" in html and "attr-small" in html and "attr-flag" in html
    narrowed = client.get(URL, {"window": "30", "x_first": "visit"})
    assert narrowed.context["panels"][0]["cross"].rows == []
    assert "没有符合这些筛选条件的组合。" in narrowed.content.decode()
    kept = client.get(URL, {"window": "30", "x_first": "call", "x_coverage": "some", "x_channel": "-"})
    assert len(kept.context["panels"][0]["cross"].rows) == 1


def test_an_unknown_combination_filter_is_a_form_error_not_a_500(alpha, client_for, deals):
    response = client_for(alpha, alpha.manager).get(URL, {"x_action": "bribe"})
    assert response.status_code == 200
    assert response.context["panels"] == []
    assert "x_action" in response.context["filter"].form.errors
