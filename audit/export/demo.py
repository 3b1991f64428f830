"""Demo: one hospital whose whole history went through the services, so its interaction
record has real, sealed entries (the bulk demo data is inserted without per-row log entries).
Idempotent: does nothing when the account exists."""
import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from followups.models import Account, ContactRole, FollowUpKind, Stage
from followups.services import account_create, contact_create, followup_log, opportunity_create, opportunity_stage_change
from salesflow.org.models import Role

DEMO_ACCOUNT = "上海市第六人民医院"
PEOPLE = [
    ("王建国", ContactRole.CIO, "信息科主任", True),
    ("李淑芬", ContactRole.PURCHASING, "采购处处长", True),
    ("陈志强", ContactRole.ENGINEER, "设备科工程师", True),
    ("赵敏", ContactRole.END_USER, "放射科护士长", False),
]
TOUCHES = [
    (FollowUpKind.VISIT, [0], "拜访信息科王主任，介绍影像归档方案，确认明年预算已立项。"),
    (FollowUpKind.CALL, [1], "与采购处李处长电话沟通招标时间表，预计三季度挂网。"),
    (FollowUpKind.MEETING, [0, 2], "技术交流会：演示 PACS 与现有 HIS 的接口，陈工提出并发性能要求。"),
    (FollowUpKind.WECHAT, [2], "发送并发压测报告给陈工，约下周现场复测。"),
    (FollowUpKind.VISIT, [2, 3], "现场复测通过，放射科赵护士长反馈操作流程需简化。"),
    (FollowUpKind.EMAIL, [1], "向采购处提交资质文件与参考报价。"),
    (FollowUpKind.VISIT, [0, 1], "王主任与李处长联合评审方案，要求补充三年维保条款。"),
    (FollowUpKind.CALL, [0], "回复维保条款修改意见，王主任认可。"),
    (FollowUpKind.MEETING, [0, 1, 2], "院内论证会：信息科、采购处、设备科共同确认技术参数。"),
    (FollowUpKind.WECHAT, [1], "确认招标文件中的评分办法，李处长提示注意交付周期。"),
    (FollowUpKind.VISIT, [2], "与陈工核对机房条件，确认交付周期可控。"),
    (FollowUpKind.CALL, [0], "投标前最后沟通，王主任希望看到同级医院案例。"),
    (FollowUpKind.EMAIL, [0, 1], "发送三家三甲医院的上线案例与用户证明。"),
]


def seed_interaction_history(*, rng, options) -> str:
    if Account.objects.filter(name=DEMO_ACCOUNT).exists():
        return "demo customer exists; nothing seeded"
    rep = get_user_model().objects.filter(member__role=Role.REP).order_by("username").first()
    if rep is None:
        return "no rep to own the demo customer"
    now = timezone.now()
    account = account_create(actor=rep, name=DEMO_ACCOUNT, owner=rep, industry="医疗器械", region="华东区",
                             tier="tertiary_hospital")
    people = [contact_create(actor=rep, account=account, name=name, role=role, title=title, is_key_person=key)
              for name, role, title, key in PEOPLE]
    stages = list(Stage.objects.filter(outcome="open").order_by("position"))
    opportunity = opportunity_create(actor=rep, account=account, name="医学影像归档与通信系统（PACS）", owner=rep,
                                     amount=2_800_000, stage=stages[0])
    step = dt.timedelta(days=170 / len(TOUCHES))
    for number, (kind, who, summary) in enumerate(TOUCHES):
        occurred = now - dt.timedelta(days=175) + step * number + dt.timedelta(hours=rng.randint(9, 17) - 12)
        followup_log(actor=rep, opportunity=opportunity, kind=kind, summary=summary,
                     contacts=[people[i] for i in who], occurred_at=occurred)
        if number in (3, 8) and len(stages) > 2:
            opportunity.refresh_from_db()
            next_stage = stages[min(stages.index(opportunity.stage) + 1, len(stages) - 1)]
            opportunity_stage_change(actor=rep, opportunity=opportunity, to_stage=next_stage, via="web")
    return f"{DEMO_ACCOUNT}: {len(TOUCHES)} follow-ups through the services"
