"""What the evidence, gate and prepayment part registers at start-up: message keys,
typed parameters and the audit verbs' labels."""
from django.utils.translation import gettext_lazy as _


def evidence_ready() -> None:
    from audit.labels import register

    from .messages_evidence import register_param_kinds

    register_param_kinds()
    register({
        "evidence.added": _("evidence added"),
        "evidence.downgraded": _("evidence downgraded"),
        "evidence.rejected": _("evidence rejected"),
        "evidence.review_refused": _("evidence review refused"),
        "confirmation.requested": _("customer confirmation requested"),
        "confirmation.confirmed": _("customer confirmed a meeting"),
        "gate.refused": _("gate refused"),
        "prepayment.recorded": _("prepayment recorded"),
        "prepayment.refused": _("prepayment refused"),
        "delivery.scheduled": _("delivery scheduled"),
        "finance_secret.issued": _("finance webhook secret issued"),
        "creditpolicy.changed": _("credit policy changed"),
        "credit.recomputed": _("credit scores recomputed"),
    })
