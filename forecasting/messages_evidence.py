"""Message keys of evidence reviews, stage gates and prepayments (salesflow.i18n), and how a
stored evidence source or level reads."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define, param_kind

define({
    "evidence.downgraded.title": _("Evidence downgraded on %(opp)s"),
    "evidence.downgraded.body": _("%(reviewer)s downgraded %(source)s from medium to weak (%(before)s → %(after)s points). Reason: %(reason)s"),
    "evidence.rejected.title": _("Evidence rejected on %(opp)s"),
    "evidence.rejected.body": _("%(reviewer)s rejected %(source)s (%(before)s → 0 points). Reason: %(reason)s"),
    "evidence.confirmed.title": _("The customer confirmed your meeting: %(opp)s"),
    "evidence.confirmed.body": _("Confirmed on their own phone: %(subject)s (%(date)s). +%(points)s credit."),
    "prepayment.received.title": _("Prepayment received: %(opp)s"),
    "prepayment.received.body": _("%(amount)s %(currency)s, reference %(reference)s. +%(points)s credit; delivery can be scheduled."),
    "gate.credit": _("%(stage)s needs %(needed)s points, has %(has)s: %(missing)s more, e.g. %(hint)s."),
    "gate.actions": _("Before moving on from %(stage)s, log: %(actions)s."),
    "gate.action_line": _("%(action)s (%(done)s of %(count)s)"),
    "gate.hint.weak": _("one plain-text follow-up"),
    "gate.hint.medium": _("one uploaded meeting minute"),
    "gate.hint.strong": _("one customer confirmation"),
    "gate.hint.strong_many": _("%(n)s customer confirmations"),
})


def evidence_source_label(code) -> str:
    from .models import EvidenceSource

    try:
        return str(EvidenceSource(code).label)
    except ValueError:
        return str(code)


def action_label(code) -> str:
    from followups.models import ActionKey

    try:
        return str(ActionKey(code).label)
    except ValueError:
        return str(code)


def register_param_kinds() -> None:
    param_kind("evidence_source", evidence_source_label)
    param_kind("action", action_label)
