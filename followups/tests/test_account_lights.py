"""A customer's light follows its open deals: the worst open one, "closed" only when none is open."""
import datetime as dt

from django.utils import timezone

from followups.models import Account, Light, Opportunity, Stage
from followups.services import followup_log, opportunity_stage_change, sla_scan

from .factories import AccountFactory, opportunity_make


def _light(account) -> int:
    return Account.objects.get(pk=account.pk).light


def test_a_new_open_deal_lights_its_customer_at_once(alpha):
    opp = opportunity_make(owner=alpha.rep)
    assert _light(opp.account) == Light.GREEN


def test_a_very_late_open_deal_makes_its_customer_red_beside_a_won_one(alpha):
    account = AccountFactory(owner=alpha.rep)
    won = opportunity_make(owner=alpha.rep, account=account, name="已签项目", credit=25)
    opportunity_stage_change(actor=alpha.rep, opportunity=won, to_stage=Stage.objects.get(code="won"), via="web")
    late = opportunity_make(owner=alpha.rep, account=account, name="拖延项目",
                            next_due_at=timezone.now() - dt.timedelta(days=10))
    Account.objects.filter(pk=account.pk).update(light=Light.NONE)  # as the demo left it before the fix

    sla_scan()

    assert Opportunity.objects.get(pk=late.pk).light == Light.RED
    assert _light(account) == Light.RED


def test_closing_the_last_open_deal_closes_the_customer_and_a_follow_up_turns_it_green(alpha):
    account = AccountFactory(owner=alpha.rep)
    late = opportunity_make(owner=alpha.rep, account=account, next_due_at=timezone.now() - dt.timedelta(days=10))
    sla_scan()
    assert _light(account) == Light.RED

    followup_log(actor=alpha.rep, opportunity=late, kind="call", summary="客户确认下周试用")
    assert _light(account) == Light.GREEN

    opportunity_stage_change(actor=alpha.rep, opportunity=late, to_stage=Stage.objects.get(code="lost"), via="web",
                             lost_reason="预算取消")
    assert _light(account) == Light.NONE
