"""What every new tenant starts with: the default pipeline, its action packs and
reminders, the SLA policy and the one-tap template library (zh-hans and en)."""
from django.db import transaction
from django.utils.translation import get_language

from audit.services import audit_record

from ..models import ActionKey, ActionTemplate, FollowUpKind, Outcome, SlaPolicy, Stage, StageReminder, StageRequirement

# code, zh, en, outcome, probability
STAGES = [
    ("initial_contact", "初步接触", "Initial contact", Outcome.OPEN, 10),
    ("needs_confirmed", "需求确认", "Needs confirmed", Outcome.OPEN, 25),
    ("solution_demo", "方案演示", "Solution demo", Outcome.OPEN, 40),
    ("trial", "试用", "Trial", Outcome.OPEN, 60),
    ("negotiation", "合同谈判", "Contract negotiation", Outcome.OPEN, 80),
    ("won", "赢单", "Won", Outcome.WON, 100),
    ("lost", "输单", "Lost", Outcome.LOST, 0),
]
# Stage gates (SPEC §4): credit needed to enter the proposal stage and to start contract approval.
ENTRY_MIN_CREDIT = {"solution_demo": 15, "negotiation": 25}
# The seeds' minimum action packs: nurturing = 3 touches + 1 needs diagnosis + 1 tailored proposal.
REQUIREMENTS = {
    "initial_contact": [(ActionKey.TOUCH, 3), (ActionKey.NEEDS_DIAGNOSIS, 1), (ActionKey.PROPOSAL, 1)],
    "needs_confirmed": [(ActionKey.DECISION_CHAIN, 1), (ActionKey.NEEDS_DIAGNOSIS, 1)],
    "solution_demo": [(ActionKey.DEMO, 1), (ActionKey.CASE_MATERIAL, 1)],
    "trial": [(ActionKey.POC, 1)],
    "negotiation": [(ActionKey.QUOTE, 1), (ActionKey.TENDER, 1), (ActionKey.CONTRACT, 1)],
}
REMINDERS = {
    "solution_demo": [(48, "发送案例资料", "Send case material"), (72, "发送满意度调研链接", "Send the survey link")],
    "trial": [(72, "回访试用反馈", "Collect trial feedback"), (168, "确认 POC 测试报告", "Confirm the POC test report")],
    "negotiation": [(48, "跟进报价反馈", "Follow up on the quote")],
}
# code, zh title, en title, zh summary, en summary, kind, action, zh next, en next, next days, visit outcome
TEMPLATES = [
    ("needs_proposal", "需要方案", "Needs proposal", "客户明确需求，需要提交定制方案。",
     "The customer stated their needs and wants a tailored proposal.", FollowUpKind.MEETING, ActionKey.NEEDS_DIAGNOSIS,
     "提交定制方案", "Send the tailored proposal", 3, True),
    ("quote_sent", "已报价", "Quote sent", "已向客户发送正式报价。", "A formal quote was sent to the customer.",
     FollowUpKind.EMAIL, ActionKey.QUOTE, "跟进报价反馈", "Follow up on the quote", 2, True),
    ("pending_signature", "待签约", "Pending signature", "合同条款已谈妥，等待客户签字盖章。",
     "Terms agreed; waiting for the customer's signature and seal.", FollowUpKind.MEETING, ActionKey.CONTRACT,
     "确认合同签署", "Confirm the signature", 2, True),
    ("poc_done", "POC 测试完成", "POC test completed", "POC 测试已完成，客户认可测试结果。",
     "The POC test is complete and the customer accepts the results.", FollowUpKind.MEETING, ActionKey.POC,
     "拿到测试报告签字", "Get the test report signed", 3, False),
    ("tender_docs", "已获取招标文件", "Tender documents obtained", "已获取招标文件，开始准备投标。",
     "Tender documents obtained; bid preparation started.", FollowUpKind.EMAIL, ActionKey.TENDER,
     "提交投标文件", "Submit the bid", 7, False),
    ("cio_joined", "CIO 加入决策链", "CIO joined decision chain", "客户 CIO 已参与评估，纳入决策链。",
     "The customer's CIO joined the evaluation and the decision chain.", FollowUpKind.MEETING,
     ActionKey.DECISION_CHAIN, "约 CIO 做方案汇报", "Book a briefing with the CIO", 5, False),
    ("needs_diagnosed", "完成需求诊断", "Needs diagnosis done", "完成需求诊断，痛点与预算已确认。",
     "Needs diagnosed: pain points and budget confirmed.", FollowUpKind.MEETING, ActionKey.NEEDS_DIAGNOSIS,
     "准备定制方案", "Prepare the tailored proposal", 3, False),
    ("proposal_sent", "已提交定制方案", "Tailored proposal sent", "定制方案已提交给客户。",
     "The tailored proposal was delivered.", FollowUpKind.EMAIL, ActionKey.PROPOSAL,
     "跟进方案反馈", "Follow up on the proposal", 3, False),
    ("demo_done", "完成方案演示", "Solution demo delivered", "已为客户完成方案演示。",
     "Solution demo delivered to the customer.", FollowUpKind.MEETING, ActionKey.DEMO,
     "发送案例资料", "Send case material", 2, False),
    ("case_sent", "已发送案例资料", "Case material sent", "已发送同行业成功案例资料。",
     "Case studies from the same industry were sent.", FollowUpKind.EMAIL, ActionKey.CASE_MATERIAL,
     "确认客户已阅读", "Check they read it", 3, False),
    ("intro_call", "首次电话沟通", "First call made", "完成首次电话沟通，了解客户基本情况。",
     "First call made; basic situation understood.", FollowUpKind.CALL, ActionKey.TOUCH,
     "约拜访时间", "Book a visit", 3, False),
    ("wechat_touch", "微信跟进", "WeChat follow-up", "通过微信/企业微信跟进客户。", "Followed up over WeChat / WeCom.",
     FollowUpKind.WECHAT, ActionKey.TOUCH, "", "", None, False),
    ("nda_signed", "已签署保密协议", "NDA signed", "客户已签署保密协议。", "The customer signed the NDA.",
     FollowUpKind.EMAIL, ActionKey.DECISION_CHAIN, "安排技术交流", "Arrange a technical session", 5, False),
    ("survey_sent", "已发送调研链接", "Survey link sent", "已发送满意度/需求调研链接。", "The survey link was sent.",
     FollowUpKind.EMAIL, ActionKey.TOUCH, "", "", None, False),
]


def defaults_install(*, actor) -> dict[str, str]:
    """Provisioning hook; idempotent, so re-running it on a tenant changes nothing."""
    with transaction.atomic():
        stages = {}
        for position, (code, zh, en, outcome, probability) in enumerate(STAGES):
            stages[code], _ = Stage.objects.get_or_create(
                code=code, defaults={"name_zh": zh, "name_en": en, "outcome": outcome, "probability": probability,
                                     "position": position, "entry_min_credit": ENTRY_MIN_CREDIT.get(code, 0)},
            )
        for code, lines in REQUIREMENTS.items():
            for action, count in lines:
                StageRequirement.objects.get_or_create(stage=stages[code], action=action, defaults={"count": count})
        for code, lines in REMINDERS.items():
            for hours, zh, en in lines:
                StageReminder.objects.get_or_create(
                    stage=stages[code], offset_hours=hours, defaults={"title_zh": zh, "title_en": en}
                )
        for position, row in enumerate(TEMPLATES):
            code, title_zh, title_en, sum_zh, sum_en, kind, action, next_zh, next_en, days, visit = row
            ActionTemplate.objects.get_or_create(
                code=code,
                defaults={
                    "title_zh": title_zh, "title_en": title_en, "summary_zh": sum_zh, "summary_en": sum_en,
                    "kind": kind, "action": action, "next_step_zh": next_zh, "next_step_en": next_en,
                    "next_step_days": days, "is_visit_outcome": visit, "position": position,
                },
            )
        SlaPolicy.objects.get_or_create(pk=1, defaults={"cadence_days": [3, 7, 14]})
        audit_record(
            actor=actor, verb="followups.defaults_installed", target_type="followups.slapolicy", target_id=1,
            payload={"stages": len(STAGES), "templates": len(TEMPLATES)},
        )
    chinese = (get_language() or "").startswith("zh")
    names = [zh if chinese else en for _, zh, en, _, _ in STAGES]
    return {"pipeline": " → ".join(names), "action templates": str(len(TEMPLATES))}
