import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salesflow.fields import DateFilter
from salesflow.org.scoping import visible_user_ids
from salesflow.org.vocabularies import vocabulary_choices

from .models import BudgetGrade, Lead, LeadStatus, RoutingDecision, RoutingRule


def _people(request):
    users = get_user_model().objects.filter(member__isnull=False).select_related("member").order_by("member__full_name")
    visible = visible_user_ids(request.user) if request else set()
    return users if visible is None else users.filter(pk__in=visible)


def _channels():
    return vocabulary_choices("channel")


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=_channels, label=_("Channel"))
    budget_grade = django_filters.ChoiceFilter(choices=BudgetGrade.choices, label=_("Budget grade"))
    owner = django_filters.ModelChoiceFilter(queryset=_people, label=_("Owner"))
    received_after = DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Received from"))
    received_before = DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Received until"))

    class Meta:
        model = Lead
        fields = ["q", "status", "channel", "budget_grade", "owner", "received_after", "received_before"]

    def search(self, queryset, name, value):
        return queryset.filter(company__icontains=value) | queryset.filter(contact_name__icontains=value)


class RoutingLogFilter(django_filters.FilterSet):
    decided_after = DateFilter(field_name="decided_at", lookup_expr="date__gte", label=_("From"))
    decided_before = DateFilter(field_name="decided_at", lookup_expr="date__lte", label=_("Until"))
    rule = django_filters.ModelChoiceFilter(queryset=RoutingRule.objects.order_by("position"), label=_("Rule"))
    assignee = django_filters.ModelChoiceFilter(queryset=_people, label=_("Rep"))
    channel = django_filters.ChoiceFilter(field_name="lead__channel", choices=_channels, label=_("Channel"))
    outcome = django_filters.ChoiceFilter(choices=RoutingDecision.Outcome.choices, label=_("Outcome"))

    class Meta:
        model = RoutingDecision
        fields = ["decided_after", "decided_before", "rule", "assignee", "channel", "outcome"]
