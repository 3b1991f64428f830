import django_filters
from django.utils.translation import gettext_lazy as _

from salesflow.org.models import Member, Role, Team
from salesflow.org.vocabularies import vocabulary_choices

from .forms import QuickSelect
from .models import Light, Opportunity, Stage
from .selectors import visible_user_ids


class BoardFilter(django_filters.FilterSet):
    """The manager board's filters; the rep choices are limited to people the viewer sees."""

    owner = django_filters.ModelChoiceFilter(
        field_name="owner__member", label=_("rep"), queryset=Member.objects.none(), to_field_name="user_id",
    )
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.filter(outcome="open"), label=_("stage"))
    light = django_filters.ChoiceFilter(
        choices=[c for c in Light.choices if c[0] != Light.NONE], label=_("light"), empty_label=_("any light")
    )
    product_line = django_filters.CharFilter(lookup_expr="exact", label=_("product line"))

    class Meta:
        model = Opportunity
        fields = ["owner", "stage", "light", "product_line"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(role__in=[Role.REP, Role.MANAGER]).order_by("full_name")
        visible = visible_user_ids(user)
        if visible is not None:
            members = members.filter(user_id__in=visible)
        self.filters["owner"].queryset = members


class _PeopleOptions(django_filters.fields.ModelChoiceIterator):
    """The options from two columns (value, full name) instead of a Member instance per person."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list(self.field.to_field_name, "full_name")


class _PeopleField(django_filters.fields.ModelChoiceField):
    iterator = _PeopleOptions


class PeopleChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice of members shown by full name, read as plain values (a director's select lists ~200)."""

    field_class = _PeopleField


class PipelineFilter(django_filters.FilterSet):
    """The pipeline's filters, kept in the query string; choices limited to the viewer's scope."""

    owner = PeopleChoiceFilter(
        field_name="owner__member", label=_("rep"), queryset=Member.objects.none(), to_field_name="user_id",
        empty_label=_("everyone"), widget=QuickSelect,
    )
    team = django_filters.ModelChoiceFilter(
        field_name="owner__member__team", label=_("team"), queryset=Team.objects.none(), empty_label=_("all teams"),
        widget=QuickSelect,
    )
    product_line = django_filters.ChoiceFilter(label=_("product line"), choices=lambda: vocabulary_choices("product_line"),
                                               empty_label=_("all product lines"), widget=QuickSelect)

    class Meta:
        model = Opportunity
        fields = ["owner", "team", "product_line"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what the options show: a director's select lists a couple of hundred people.
        members = Member.objects.filter(role__in=[Role.REP, Role.MANAGER]).only("user_id", "full_name").order_by("full_name")
        teams = Team.objects.only("name").order_by("name")
        visible = visible_user_ids(user)
        if visible is not None:
            members = members.filter(user_id__in=visible)
            teams = teams.filter(members__user_id__in=visible).distinct()
        self.filters["owner"].queryset = members
        self.filters["team"].queryset = teams
