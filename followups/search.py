"""Global search: customers, contacts and leads by name or phone fragment, scoped.

The text condition runs on the bigram indexes (salesflow.search). Up to CANDIDATES rows
per kind are fetched without ordering (a common word matches tens of thousands: ranking
them all would cost more than the search), then ordered in Python: names starting with
the query first, then shorter names.
"""
from dataclasses import dataclass, field

from leads.selectors import lead_list
from salesflow.org.scoping import visible_user_ids
from salesflow.search import custom_plans, normalise_query, search_filter

from .models import Account, Contact
from .selectors import SearchScope

CANDIDATES = 60
SHOWN = 8


@dataclass
class SearchResults:
    query: str
    accounts: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    leads: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.accounts) + len(self.contacts) + len(self.leads)


def _best(rows: list, query: str, name) -> list:
    needle = query.lower()
    return sorted(rows, key=lambda row: (not name(row).lower().startswith(needle), len(name(row)), name(row)))[:SHOWN]


def global_search(*, user, text: str) -> SearchResults:
    query = normalise_query(text)
    results = SearchResults(query=query)
    if not query:
        return results
    with custom_plans():
        _fill(results, user=user, query=query)
    return results


def _fill(results: SearchResults, *, user, query: str) -> None:
    # .order_by(): no model ordering, or every match would be fetched and sorted before the LIMIT.
    visible = visible_user_ids(user)
    accounts = Account.objects.all()
    contacts = Contact.objects.all()
    if visible is not None:
        scope = SearchScope(visible)
        accounts = accounts.filter(scope.condition(model=Account, account_ref="pk", owner_ref="owner_id"))
        contacts = contacts.filter(scope.condition(model=Contact, account_ref="account_id", owner_ref="account__owner_id"))
    accounts = search_filter(accounts, query).only("id", "name", "region", "industry").order_by()
    results.accounts = _best(list(accounts[:CANDIDATES]), query, lambda a: a.name)
    contacts = search_filter(contacts, query).select_related(
        "account").only("id", "name", "phone", "title", "role", "account_id", "account__name")
    results.contacts = _best(list(contacts.order_by()[:CANDIDATES]), query, lambda c: c.name)
    leads = search_filter(lead_list(user=user), query).only(
        "id", "company", "contact_name", "phone", "status", "owner_id", "created_at")
    results.leads = _best(list(leads.select_related(None).order_by()[:CANDIDATES]), query,
                          lambda l: l.company or l.contact_name)
