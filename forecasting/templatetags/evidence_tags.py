from django import template

from ..forms_evidence import DeliveryForm
from ..selectors_evidence import evidence_history, next_gate, prepayment_state
from ..services.evidence import may_review
from ..services.prepayment import may_schedule_delivery

register = template.Library()


@register.inclusion_tag("forecasting/_evidence_panel.html", takes_context=True)
def evidence_panel(context, opportunity):
    user = context["request"].user
    state = prepayment_state(opportunity=opportunity)
    gate = next_gate(opportunity=opportunity)
    return {
        "request": context["request"], "csrf_token": context.get("csrf_token"), "opportunity": opportunity,
        "history": evidence_history(opportunity=opportunity), "gate": gate,
        "gate_missing": max(gate.entry_min_credit - opportunity.credit_score, 0) if gate else 0,
        "can_confirm": opportunity.owner_id == user.pk and opportunity.is_open,
        "can_review": may_review(actor=user, owner_id=opportunity.owner_id),
        "can_schedule": bool(state["prepayments"]) and may_schedule_delivery(actor=user, opportunity=opportunity),
        "delivery_form": DeliveryForm(initial={"planned_on": state["delivery"].planned_on, "note": state["delivery"].note}
                                      if state["delivery"] else None),
        **state,
    }
