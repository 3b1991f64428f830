import django_filters
from django.utils.translation import gettext_lazy as _

from followups.filters import PeopleChoiceFilter
from followups.forms import QuickSelect
from followups.models import Opportunity
from salesflow.org.models import Member, Region, Role, Team
from salesflow.org.scoping import visible_user_ids


class ForecastFilter(django_filters.FilterSet):
    """Board scope: a rep, a team or a region among those the viewer answers for."""

    region = django_filters.ModelChoiceFilter(
        field_name="owner__member__team__region", label=_("region"), queryset=Region.objects.none(),
        empty_label=_("all regions"), widget=QuickSelect,
    )
    team = django_filters.ModelChoiceFilter(
        field_name="owner__member__team", label=_("team"), queryset=Team.objects.none(), empty_label=_("all teams"),
        widget=QuickSelect,
    )
    owner = PeopleChoiceFilter(
        field_name="owner__member", label=_("rep"), queryset=Member.objects.none(), to_field_name="user_id",
        empty_label=_("everyone"), widget=QuickSelect,
    )

    class Meta:
        model = Opportunity
        fields = ["region", "team", "owner"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(role__in=[Role.REP, Role.MANAGER]).only("user_id", "full_name").order_by("full_name")
        teams = Team.objects.only("name").order_by("name")
        regions = Region.objects.only("name").order_by("name")
        visible = visible_user_ids(user)
        if visible is not None:
            members = members.filter(user_id__in=visible)
            teams = teams.filter(members__user_id__in=visible).distinct()
            regions = regions.filter(teams__members__user_id__in=visible).distinct()
        self.filters["owner"].queryset = members
        self.filters["team"].queryset = teams
        self.filters["region"].queryset = regions

    def team_ids(self) -> list[int] | None:
        """Teams whose adjustments apply to the filtered board; None: every team (the whole tenant)."""
        data = self.form.cleaned_data
        if data.get("owner"):
            return [data["owner"].team_id] if data["owner"].team_id else []
        if data.get("team"):
            return [data["team"].pk]
        if data.get("region"):
            return list(Team.objects.filter(region=data["region"]).values_list("pk", flat=True))
        if self.filters["team"].queryset.model is Team and visible_user_ids(self.request.user) is not None:
            return list(self.filters["team"].queryset.values_list("pk", flat=True))
        return None
