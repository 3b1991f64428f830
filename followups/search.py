"""Global search: customers, contacts and leads by name or phone fragment, scoped.

One statement per search: a UNION ALL of the three kinds, each matched on its bigram
document and its `search_owners` in one GIN index condition (salesflow.search), so the
scope costs no statement of its own and no row outside it is read. Up to CANDIDATES rows
per kind come back unordered (a common word matches tens of thousands: ranking them all in
the database would cost more than the search) as plain tuples, and are ordered here: names
starting with the query first, then shorter names.
"""
from dataclasses import dataclass, field

from django.db import connection

from leads.models import Lead, LeadStatus
from salesflow.org.scoping import visible_user_ids
from salesflow.search import EVERYONE, custom_plans, normalise_query

from .models import Account, Contact

CANDIDATES = 60
SHOWN = 8


@dataclass(slots=True)
class AccountHit:
    pk: int
    name: str
    region: str


@dataclass(slots=True)
class ContactHit:
    pk: int
    name: str
    phone: str
    account_id: int
    account_name: str


@dataclass(slots=True)
class LeadHit:
    pk: int
    company: str
    contact_name: str
    phone: str
    status: str

    @property
    def name(self) -> str:
        return self.company or self.contact_name

    def get_status_display(self) -> str:
        return str(LeadStatus(self.status).label)


@dataclass
class SearchResults:
    query: str
    accounts: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    leads: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.accounts) + len(self.contacts) + len(self.leads)


def global_search(*, user, text: str) -> SearchResults:
    query = normalise_query(text)
    results = SearchResults(query=query)
    if not query:
        return results
    found = {"account": [], "contact": [], "lead": []}
    with custom_plans():
        for row in _rows(query, visible_user_ids(user)):
            found[row[0]].append(_hit(*row))
    results.accounts = _best(found["account"], query)
    results.contacts = _best(found["contact"], query)
    results.leads = _best(found["lead"], query)
    return results


def _hit(kind: str, pk: int, name: str, note: str, phone: str, link: int, status: str):
    if kind == "account":
        return AccountHit(pk, name, region=note)
    if kind == "contact":
        return ContactHit(pk, name, phone, account_id=link, account_name=note)
    return LeadHit(pk, company=name, contact_name=note, phone=phone, status=status)


def _best(hits: list, query: str) -> list:
    needle = query.lower()
    return sorted(hits, key=lambda hit: (not hit.name.lower().startswith(needle), len(hit.name), hit.name))[:SHOWN]


def _rows(query: str, visible: set[int] | None) -> list[tuple]:
    """(kind, id, name, note, phone, link id, status) of up to CANDIDATES matches per kind.

    `visible` None (an admin): every row but merged leads; else rows whose `search_owners`
    shares an id with `visible` (leads also EVERYONE's, the public pool).
    """
    account, contact, lead = Account._meta.db_table, Contact._meta.db_table, Lead._meta.db_table
    matches = "search_document @@ public.salesflow_grams_query(%s)"
    params: list = []

    def where(scope_ids):
        params.append(query)
        if scope_ids is None:
            return matches
        params.append(sorted(scope_ids))
        return f"{matches} AND search_owners && %s::integer[]"

    lead_scope = None if visible is None else set(visible) | {EVERYONE}
    sql = f"""
        (SELECT 'account', id, name, region, NULL, NULL::bigint, NULL FROM "{account}"
          WHERE {where(visible)} LIMIT {CANDIDATES})
        UNION ALL
        (SELECT 'contact', c.id, c.name, a.name, c.phone, c.account_id, NULL
           FROM (SELECT id, name, phone, account_id FROM "{contact}" WHERE {where(visible)} LIMIT {CANDIDATES}) c
           JOIN "{account}" a ON a.id = c.account_id)
        UNION ALL
        (SELECT 'lead', id, company, contact_name, phone, NULL, status FROM "{lead}"
          WHERE {where(lead_scope)}{" AND status <> %s" if visible is None else ""} LIMIT {CANDIDATES})
    """
    if visible is None:
        params.append(LeadStatus.MERGED.value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
