"""Role-aware navigation: each role is offered the pages it has a use for; a finance user asking for a sales
page directly is told where their work is instead of getting an empty page."""
import re

import pytest
from django.urls import reverse

from salesflow.navigation import NAV, nav_items
from salesflow.org.models import Role
from salesflow.org.tests.factories import MemberFactory, UserFactory


@pytest.fixture
def finance_user(alpha):
    return MemberFactory(user=UserFactory(username="cashier"), role=Role.FINANCE, team=None).user


def _nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="nav">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'href="([^"]+)"', nav)


def test_finance_is_offered_prepayments_and_the_inbox_only(alpha, client_for, finance_user):
    page = client_for(alpha, finance_user).get(reverse("evidence:finance"))
    assert page.status_code == 200
    assert _nav_links(page.content.decode()) == [reverse("evidence:finance"), reverse("notifications:inbox")]
    assert 'class="global-search"' not in page.content.decode()


def test_a_rep_is_offered_their_pages_and_no_manager_or_finance_page(alpha, client_for):
    links = _nav_links(client_for(alpha, alpha.rep).get(reverse("followups:today")).content.decode())
    assert reverse("followups:pipeline") in links and reverse("forecasting:commits") in links
    for page in ("evidence:finance", "evidence:queue", "forecasting:board", "team", "health:board"):
        assert reverse(page) not in links


def test_a_manager_is_offered_the_board_but_not_prepayments(alpha, client_for):
    links = _nav_links(client_for(alpha, alpha.manager).get(reverse("followups:today")).content.decode())
    assert reverse("forecasting:board") in links and reverse("evidence:queue") in links
    assert reverse("evidence:finance") not in links and reverse("forecasting:commits") not in links


def test_every_page_offered_opens_for_its_role(alpha, client_for, finance_user):
    for role, user in ((Role.REP, alpha.rep), (Role.MANAGER, alpha.manager), (Role.FINANCE, finance_user)):
        client = client_for(alpha, user)
        for item in nav_items(role):
            response = client.get(reverse(item.url_name))
            assert response.status_code in (200, 302), (role, item.url_name, response.status_code)


def test_finance_home_is_the_prepayments_page(alpha, client_for, finance_user):
    response = client_for(alpha, finance_user).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("evidence:finance")


@pytest.mark.parametrize("page", ["followups:today", "followups:pipeline", "followups:accounts", "leads:index",
                                  "leads:pool", "targets:index", "forecasting:commits", "forecasting:board", "team"])
def test_a_sales_page_asked_for_by_finance_is_a_403_saying_where_their_work_is(alpha, client_for, finance_user, page):
    response = client_for(alpha, finance_user).get(reverse(page), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "As finance you record prepayments on the Prepayments page." in response.content.decode()


def test_the_403_speaks_chinese_on_a_chinese_page(alpha, client_for, finance_user):
    response = client_for(alpha, finance_user).get(reverse("followups:today"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403 and "预付款" in response.content.decode()


def test_the_public_web_form_still_opens_for_anyone(alpha, client_for, finance_user):
    assert client_for(alpha, finance_user).get(reverse("leads:web-form")).status_code == 200


def test_every_nav_entry_names_a_real_page():
    for item in NAV:
        assert reverse(item.url_name)
