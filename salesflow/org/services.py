import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from salesflow.memo import remembered_forget

from .models import Availability, Member, TenantSettings
from .selectors import SETTINGS_CACHE_KEY, rep_roster_forget


def tenant_settings_forget() -> None:
    """Forget the cached settings here and in Redis; other processes follow within seconds."""
    remembered_forget(SETTINGS_CACHE_KEY)


def tenant_settings_update(*, actor, reason: str = "", **changes) -> TenantSettings:
    with transaction.atomic():
        current = TenantSettings.objects.select_for_update().get(pk=1)
        before = {name: getattr(current, name) for name in changes}
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        audit_record(
            actor=actor,
            verb="settings.changed",
            target=current,
            payload={"before": before, "after": changes},
            reason=reason,
        )
        transaction.on_commit(tenant_settings_forget)
    return current


def member_availability_set(
    *,
    actor,
    member: Member,
    availability: str,
    away_from: dt.date | None = None,
    away_until: dt.date | None = None,
    reason: str = "",
) -> Member:
    if availability == Availability.AVAILABLE:
        away_from = away_until = None
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        before = {"availability": member.availability, "away_from": member.away_from, "away_until": member.away_until}
        member.availability, member.away_from, member.away_until = availability, away_from, away_until
        member.full_clean()
        member.save(update_fields=["availability", "away_from", "away_until"])
        transaction.on_commit(rep_roster_forget)
        audit_record(
            actor=actor,
            verb="member.availability_changed",
            target=member,
            payload={"before": before, "after": {"availability": availability, "away_from": away_from, "away_until": away_until}},
            reason=reason,
        )
    return member


def member_language_set(*, actor, member: Member, language: str) -> Member:
    """The language a person reads the app, e-mails and messages in ("" = the tenant's default)."""
    if language not in {"", *dict(settings.LANGUAGES)}:
        raise ValidationError({"language": _("Unknown language.")})
    with transaction.atomic():
        updated = Member.objects.filter(pk=member.pk).exclude(language=language).update(language=language)
        if updated:
            audit_record(actor=actor, verb="member.language_changed", target=member, payload={"language": language})
    member.language = language
    return member
