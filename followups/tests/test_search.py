"""Global search: Chinese name fragments, phone digits anywhere, scoped per user, never across tenants."""
import pytest
from django.db import connection
from django.urls import reverse
from django_tenants.utils import schema_context

from followups.search import global_search
from leads.tests.factories import lead_submit
from salesflow.search import search_filter
from followups.models import Contact

from .factories import AccountFactory, ContactFactory, opportunity_make


@pytest.fixture
def chain(alpha):
    account = AccountFactory(owner=alpha.rep, name="上海市第六人民医院")
    opportunity_make(owner=alpha.rep, account=account)
    ContactFactory(account=account, name="张伟", phone="+86 138-1234-5678")
    ContactFactory(account=account, name="欧阳娜娜", phone="021 6436 9181")
    return account


def _names(rows, attr="name"):
    return sorted(getattr(r, attr) for r in rows)


@pytest.mark.parametrize("query, expected", [
    ("张伟", ["张伟"]),          # a whole two-character name
    ("张", ["张伟"]),            # one character: a prefix of some pair
    ("娜娜", ["欧阳娜娜"]),       # the end of a name
    ("5678", ["张伟"]),          # the last four digits
    ("1381234", ["张伟"]),       # digits across the dashes
    ("138-1234", ["张伟"]),      # typed with a dash
    ("6436", ["欧阳娜娜"]),
    ("8765", []),               # the digits exist, not in that order
])
def test_contacts_are_found_by_name_or_any_run_of_phone_digits(alpha, chain, query, expected):
    assert _names(global_search(user=alpha.rep, text=query).contacts) == expected


def test_customers_are_found_by_a_fragment_of_their_name_and_leads_by_company_contact_or_phone(alpha, chain):
    assert _names(global_search(user=alpha.rep, text="第六人民").accounts) == ["上海市第六人民医院"]
    assert global_search(user=alpha.rep, text="第七人民").accounts == []
    lead = lead_submit(company="杭州市中医院", contact_name="陈静", phone="13977770042", budget_grade="C").lead
    for query in ("中医院", "陈静", "0042"):
        assert [l.pk for l in global_search(user=alpha.rep, text=query).leads] == [lead.pk], query


# The scope is checked two ways (an id array for narrow scopes, probed per row for wide ones): both must agree.
@pytest.mark.parametrize("narrow_scope_users", [2, 0])
def test_a_rep_finds_only_what_they_may_see_and_a_manager_their_team(alpha, chain, monkeypatch, narrow_scope_users):
    monkeypatch.setattr("followups.selectors.NARROW_SCOPE_USERS", narrow_scope_users)
    other = AccountFactory(owner=alpha.other_rep, name="北京协和医院")
    ContactFactory(account=other, name="张伟", phone="13911112222")
    assert [c.account_id for c in global_search(user=alpha.rep, text="张伟").contacts] == [chain.pk]
    assert global_search(user=alpha.rep, text="协和").accounts == []
    assert _names(global_search(user=alpha.manager, text="医院").accounts) == ["上海市第六人民医院"]
    assert _names(global_search(user=alpha.director, text="医院").accounts) == ["上海市第六人民医院"]
    assert len(global_search(user=alpha.admin, text="张伟").contacts) == 2


@pytest.mark.parametrize("narrow_scope_users", [2, 0])
def test_a_customer_someone_else_owns_is_found_through_an_opportunity_held_in_scope(alpha, monkeypatch,
                                                                                     narrow_scope_users):
    monkeypatch.setattr("followups.selectors.NARROW_SCOPE_USERS", narrow_scope_users)
    held = AccountFactory(owner=alpha.other_rep, name="苏州市立医院")
    opportunity_make(owner=alpha.rep, account=held)
    ContactFactory(account=held, name="李娜", phone="13800001111")
    for viewer in (alpha.rep, alpha.manager, alpha.director):
        assert _names(global_search(user=viewer, text="市立").accounts) == ["苏州市立医院"], viewer
        assert _names(global_search(user=viewer, text="1111").contacts) == ["李娜"], viewer
    assert global_search(user=alpha.other_manager, text="市立").accounts != []  # their rep owns it
    assert global_search(user=alpha.other_manager, text="1111").contacts != []


def test_search_statements_are_never_prepared_so_never_planned_generically(alpha, chain):
    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%salesflow_grams_query%"])
            return cursor.fetchone()[0]

    for _ in range(8):  # beyond the driver's prepare_threshold (5)
        assert _names(global_search(user=alpha.manager, text="5678").contacts) == ["张伟"]
    assert prepared() == 0
    assert connection.connection.prepare_threshold == 5  # restored for everything else


def test_nothing_is_found_in_another_tenant(alpha, beta, chain, client_for):
    response = client_for(beta, beta.admin).get(reverse("followups:search"), {"q": "5678"})
    assert response.status_code == 200 and "张伟" not in response.content.decode()
    with schema_context("beta"):
        assert not search_filter(Contact.objects.all(), "张伟").exists()


def test_blank_and_punctuation_only_queries_find_nothing_without_error(alpha, chain):
    for query in ("", "   ", "---", "%_\\'"):
        assert global_search(user=alpha.admin, text=query).total == 0


def test_the_search_uses_the_bigram_index_in_a_cloned_tenant_schema(alpha, chain):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM followups_contact WHERE search_document @@ public.salesflow_grams_query(%s)", ["5678"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "followups_contact_search" in plan


def test_the_search_page_and_the_header_partial_answer(alpha, chain, client_for):
    client = client_for(alpha, alpha.rep)
    page = client.get(reverse("followups:search"), {"q": "5678"})
    partial = client.get(reverse("followups:search"), {"q": "5678"}, HTTP_HX_REQUEST="true")
    assert page.status_code == partial.status_code == 200
    assert "张伟" in partial.content.decode() and "<html" not in partial.content.decode()
    assert client_for(alpha).get(reverse("followups:search"), {"q": "x"}).status_code == 302  # signed out
