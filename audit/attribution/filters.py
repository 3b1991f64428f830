"""The attribution page's filters: django-filter narrows the closed deals (period, team, product
line); the form also carries what the counting needs beyond a queryset — the two regions side by
side and the touch window."""
import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followups.forms import QuickSelect
from followups.models import ClosedDeal
from salesflow.org.models import Region, Team
from salesflow.org.scoping import visible_user_ids
from salesflow.org.vocabularies import vocabulary_choices

from .presentation import cross_choices
from .selectors import DEFAULT_WINDOW_DAYS

DEFAULT_PERIOD_DAYS = 180
MAX_WINDOW_DAYS = 365


class DateInput(forms.DateInput):
    input_type = "date"


class AttributionForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("region"), queryset=Region.objects.none(), required=False, empty_label=_("everyone I see"),
    )
    compare = forms.ModelChoiceField(
        label=_("compare with"), queryset=Region.objects.none(), required=False, empty_label=_("no comparison"),
    )
    window = forms.IntegerField(
        label=_("count touches in the first (days)"), min_value=1, max_value=MAX_WINDOW_DAYS, required=False,
        help_text=_("or until the deal closed, if sooner"),
    )
    # The four-way view's own filters (choices set by the FilterSet): they narrow its rows only.
    x_channel = forms.ChoiceField(label=_("lead channel"), required=False, widget=QuickSelect)
    x_first = forms.ChoiceField(label=_("first touch"), required=False, widget=QuickSelect)
    x_action = forms.ChoiceField(label=_("including the action"), required=False, widget=QuickSelect)
    x_coverage = forms.ChoiceField(label=_("decision-chain coverage"), required=False,
                                   widget=QuickSelect)

    def clean(self):
        data = super().clean()
        start, end = data.get("closed_from"), data.get("closed_to")
        if start and end and start > end:
            self.add_error("closed_to", _("The period ends before it starts."))
        return data


class AttributionFilter(django_filters.FilterSet):
    """Closed deals by when they closed (tenant time), team (as of the close) and product line; the
    viewer's scope is in the queryset given, and the region and team choices offer only that scope."""

    closed_from = django_filters.DateFilter(
        field_name="closed_at", lookup_expr="date__gte", label=_("closed from"), widget=DateInput,
    )
    closed_to = django_filters.DateFilter(
        field_name="closed_at", lookup_expr="date__lte", label=_("closed until"), widget=DateInput,
    )
    team = django_filters.ModelChoiceFilter(
        field_name="team", label=_("team"), queryset=Team.objects.none(), empty_label=_("all teams"),
        widget=QuickSelect,
    )
    product_line = django_filters.ChoiceFilter(
        label=_("product line"), choices=lambda: vocabulary_choices("product_line"),
        empty_label=_("all product lines"), widget=QuickSelect,
    )

    class Meta:
        model = ClosedDeal
        fields = ["closed_from", "closed_to", "team", "product_line"]
        form = AttributionForm

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        visible = visible_user_ids(user)
        teams = Team.objects.only("name").order_by("name")
        if visible is not None:
            teams = teams.filter(members__user_id__in=visible).distinct()
        self.filters["team"].queryset = teams
        regions = attribution_regions(user)
        self.form.fields["region"].queryset = regions
        self.form.fields["compare"].queryset = regions
        for name, choices in cross_choices().items():
            self.form.fields[name].choices = choices

    def filter_queryset(self, queryset):
        # The form's own fields (regions, window) are for the counting, not for this queryset.
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def cross_filters(self) -> dict[str, str]:
        data = self.form.cleaned_data
        return {"channel": data.get("x_channel") or "", "first_touch": data.get("x_first") or "",
                "action": data.get("x_action") or "", "coverage": data.get("x_coverage") or ""}

    @property
    def window_days(self) -> int:
        return self.form.cleaned_data.get("window") or DEFAULT_WINDOW_DAYS


def attribution_regions(user):
    """Regions where someone the viewer sees works (by team or by their own region)."""
    regions = Region.objects.order_by("name")
    visible = visible_user_ids(user)
    if visible is None:
        return regions
    return regions.filter(Q(teams__members__user_id__in=visible) | Q(members__user_id__in=visible)).distinct()


def attribution_defaults(data, *, regions):
    """The query the page opens with: the last half year, the first two regions side by side."""
    today = timezone.localdate()
    query = data.copy()
    if not query:
        picks = list(regions.values_list("pk", flat=True)[:2])
        if picks:
            query["region"] = str(picks[0])
        if len(picks) > 1:
            query["compare"] = str(picks[1])
    query.setdefault("closed_from", (today - dt.timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat())
    query.setdefault("closed_to", today.isoformat())
    query.setdefault("window", str(DEFAULT_WINDOW_DAYS))
    return query
