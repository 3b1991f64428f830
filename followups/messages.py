"""Message keys of follow-ups (SLA alerts), and how a stored stage or follow-up kind reads (salesflow.i18n)."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define, param_kind
from salesflow.memo import memo_get

define({
    "sla.golden.title": _("No update for %(duration)s: %(opp)s"),
    "sla.golden.body": _("%(account)s · last update %(when)s. Last follow-ups:\n%(lines)s"),
    "sla.golden.line": _("%(when)s [%(kind)s] %(summary)s"),
    "sla.golden.none": _("No follow-up logged yet."),
    "sla.red.title": _("Red: %(opp)s is more than late"),
    "sla.red.body": _("%(account)s · the next touch was due %(when)s."),
    "sla.stagnant.title": _("Stagnant in %(stage)s: %(opp)s"),
    "sla.stagnant.body": _("%(account)s · no movement and no update since %(when)s."),
    "sla.reminder.title": _("Reminder due: %(opp)s"),
    "sla.reminder.body": _("%(account)s · a stage reminder fell due at %(when)s."),
    "sla.first_touch.title": _("High-value lead not touched within %(duration)s: %(name)s"),
    "sla.first_touch.body": _("Assigned %(when)s; every hour of silence costs the deal."),
})


def _stage_names() -> dict[str, tuple[str, str]]:
    from .models import Stage

    return memo_get("followups:stage-names", lambda: {
        code: (zh, en) for code, zh, en in Stage.objects.values_list("code", "name_zh", "name_en")
    })


def stage_label(code) -> str:
    from .models import _bilingual

    names = _stage_names().get(code)
    return _bilingual(*names) if names else str(code)


def followup_kind_label(code) -> str:
    from .models import FollowUpKind

    try:
        return str(FollowUpKind(code).label)
    except ValueError:
        return str(code)


def register_param_kinds() -> None:
    param_kind("stage", stage_label)
    param_kind("followup_kind", followup_kind_label)
