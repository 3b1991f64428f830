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


def test_a_rep_finds_only_what_they_may_see_and_a_manager_their_team(alpha, chain):
    other = AccountFactory(owner=alpha.other_rep, name="北京协和医院")
    ContactFactory(account=other, name="张伟", phone="13911112222")
    assert [c.account_id for c in global_search(user=alpha.rep, text="张伟").contacts] == [chain.pk]
    assert global_search(user=alpha.rep, text="协和").accounts == []
    assert _names(global_search(user=alpha.manager, text="医院").accounts) == ["上海市第六人民医院"]
    assert _names(global_search(user=alpha.director, text="医院").accounts) == ["上海市第六人民医院"]
    assert len(global_search(user=alpha.admin, text="张伟").contacts) == 2


def test_a_customer_someone_else_owns_is_found_through_an_opportunity_held_in_scope(alpha):
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


def _owners(model, pk):
    return sorted(model.objects.values_list("search_owners", flat=True).get(pk=pk))


def test_who_finds_a_customer_follows_its_owner_and_its_opportunities_holders(alpha):
    """search_owners is kept by triggers: whatever the ORM or a bulk write does, it is right."""
    from followups.models import Account, Opportunity

    account = AccountFactory(owner=alpha.rep, search_owners=[999])  # what the ORM writes is replaced
    contact = ContactFactory(account=account, search_owners=[])
    assert _owners(Account, account.pk) == _owners(Contact, contact.pk) == [alpha.rep.pk]

    deal = opportunity_make(owner=alpha.other_rep, account=account)
    assert _owners(Account, account.pk) == _owners(Contact, contact.pk) == sorted([alpha.rep.pk, alpha.other_rep.pk])

    Opportunity.objects.filter(pk=deal.pk).update(owner=alpha.manager)  # a bulk reassignment
    assert _owners(Contact, contact.pk) == sorted([alpha.rep.pk, alpha.manager.pk])

    elsewhere = AccountFactory(owner=alpha.admin)
    Opportunity.objects.filter(pk=deal.pk).update(account=elsewhere)  # moved to another customer
    assert _owners(Contact, contact.pk) == [alpha.rep.pk]
    assert _owners(Account, elsewhere.pk) == sorted([alpha.admin.pk, alpha.manager.pk])

    Account.objects.filter(pk=account.pk).update(owner=alpha.other_rep)
    assert _owners(Contact, contact.pk) == [alpha.other_rep.pk]

    Contact.objects.filter(pk=contact.pk).update(account=elsewhere)
    assert _owners(Contact, contact.pk) == sorted([alpha.admin.pk, alpha.manager.pk])

    Opportunity.objects.filter(pk=deal.pk).delete()
    assert _owners(Contact, contact.pk) == [alpha.admin.pk]
    contact.refresh_from_db()
    contact.name = "改名"
    contact.save()  # a save through the ORM writes its stale list back: the trigger puts the right one
    assert _owners(Contact, contact.pk) == [alpha.admin.pk]


def test_who_finds_a_lead_follows_its_status_and_owner(alpha):
    from leads.models import Lead, LeadStatus
    from salesflow.search import EVERYONE

    lead = lead_submit(company="杭州市中医院", contact_name="陈静", phone="13977770042").lead
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.POOL, owner=None)
    assert _owners(Lead, lead.pk) == [EVERYONE]
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.ACCEPTED, owner=alpha.rep)
    assert _owners(Lead, lead.pk) == [alpha.rep.pk]
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.MERGED)
    assert _owners(Lead, lead.pk) == []
    assert global_search(user=alpha.admin, text="中医院").leads == []


def test_search_finds_exactly_what_the_lists_of_each_role_show(alpha):
    """The indexed scope and the selectors' scope are two statements of one rule: they must agree."""
    from followups.selectors import account_list
    from leads.models import Lead, LeadStatus
    from leads.selectors import lead_list

    people = [alpha.rep, alpha.other_rep, alpha.manager, alpha.other_manager, alpha.director, alpha.admin]
    for index, owner in enumerate(people):
        account = AccountFactory(owner=owner, name=f"苏州第{index}医院")
        ContactFactory(account=account, name=f"王{index}", phone=f"1380000{index:04d}")
        opportunity_make(owner=people[-index - 1], account=AccountFactory(owner=owner, name=f"无锡第{index}医院"))
        lead = lead_submit(company=f"常州第{index}医院", contact_name=f"赵{index}", phone=f"1390000{index:04d}").lead
        Lead.objects.filter(pk=lead.pk).update(status=[LeadStatus.POOL, LeadStatus.ACCEPTED, LeadStatus.MERGED][index % 3],
                                               owner=None if index % 3 == 0 else owner)
    for viewer in people:
        found = global_search(user=viewer, text="医院")
        accounts = global_search(user=viewer, text="苏州").accounts + global_search(user=viewer, text="无锡").accounts
        assert {a.pk for a in accounts} == set(account_list(user=viewer).filter(name__contains="第")
                                               .values_list("pk", flat=True)), viewer
        assert {c.pk for c in global_search(user=viewer, text="13800").contacts} == set(
            Contact.objects.filter(account__in=account_list(user=viewer)).values_list("pk", flat=True)), viewer
        assert {l.pk for l in found.leads} == set(lead_list(user=viewer).filter(company__contains="医院")
                                                  .values_list("pk", flat=True)), viewer


def test_a_search_is_one_statement(alpha, chain, django_assert_num_queries):
    global_search(user=alpha.rep, text="张")  # the member row, read once per request
    with django_assert_num_queries(1):
        found = global_search(user=alpha.rep, text="张")
    assert _names(found.contacts) == ["张伟"]
