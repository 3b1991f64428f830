"""The 0.7 × committed warning: raised once per scope (team, region) and week, claimed in the database."""
import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.urls import reverse

from audit.services import audit_record
from followups.models import Opportunity
from salesflow.i18n import message
from salesflow.notifications.services.inbox import notify
from salesflow.org.models import Region, Team

from ..weeks import tenant_tz, week_start
from .forecast_board import board_weeks, fit_current

WEEKS_WATCHED = 4


@dataclass(frozen=True)
class AlertScanResult:
    schema: str
    raised: int

    def summary_line(self) -> str:
        return f"forecast alerts {self.schema}: raised={self.raised}"


def _scopes():
    for team in Team.objects.select_related("region"):
        managers = [u for u in (team.manager_id, team.region.director_id) if u]
        yield "team", team.pk, team.name, Opportunity.objects.filter(owner__member__team=team), [team.pk], managers
    for region in Region.objects.all():
        teams = list(Team.objects.filter(region=region).values_list("pk", flat=True))
        owners = Opportunity.objects.filter(owner__member__team_id__in=teams)
        yield "region", region.pk, region.name, owners, teams, [region.director_id] if region.director_id else []


def forecast_alert_scan(*, now: dt.datetime) -> AlertScanResult:
    first_week = week_start(now, tenant_tz())
    board_fit = fit_current(now)
    raised = 0
    for scope, scope_id, name, opportunities, team_ids, managers in _scopes():
        bars = board_weeks(opportunities, now=now, first_week=first_week, board_fit=board_fit, team_ids=team_ids)
        for bar in bars[:WEEKS_WATCHED]:
            if bar.below and _claim(scope=scope, scope_id=scope_id, bar=bar, now=now, name=name, managers=managers):
                raised += 1
    return AlertScanResult(connection.schema_name, raised)


def _claim(*, scope, scope_id, bar, now, name, managers) -> bool:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO forecasting_forecastalert (scope, scope_id, period, weighted, committed, raised_at)
                VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (scope, scope_id, period) DO NOTHING RETURNING id
                """,
                [scope, scope_id, bar.week, bar.weighted, bar.committed_effective, now],
            )
            row = cursor.fetchone()
        if row is None:
            return False
        amount = lambda value: {"$": "amount", "v": str(value)}  # noqa: E731
        notify(
            recipients=managers, event_key=f"forecast.below:{scope}:{scope_id}:{bar.week.isoformat()}",
            title=message("forecast.below.title", scope=name, week=bar.week.isoformat()),
            body=message("forecast.below.body", weighted=amount(bar.weighted),
                         committed=amount(bar.committed_effective), warning=amount(bar.warning)),
            link=reverse("forecasting:board") + (f"?team={scope_id}" if scope == "team" else f"?region={scope_id}"),
            kind="alert", payload={"scope": scope, "scope_id": scope_id, "week": bar.week.isoformat()},
        )
        audit_record(
            actor="forecast_alert_scan", verb="forecast.below_warning", target_type=f"org.{scope}", target_id=scope_id,
            payload={"alert": row[0], "week": bar.week.isoformat(), "weighted": str(bar.weighted),
                     "committed": str(bar.committed_effective), "warning": str(bar.warning), "recipients": managers},
        )
    return True
