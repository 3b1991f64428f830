"""Demo leads for seed_demo: every channel, routed by the real rules, accepted and touched with
realistic delays (most within minutes, a tail of hours, some never), and a few in the pool."""
import datetime as dt

from django.db import transaction
from django.utils import timezone

from salesflow.org.demo import INDUSTRY_PRODUCTS
from salesflow.org.models import Region

from salesflow.org.vocabularies import vocabulary_codes

from .models import LeadStatus, LeadTouch
from .services import lead_accept, lead_claim, lead_intake, lead_payload_validate, lead_touch_record

COMPANY_SUFFIX = {"医疗器械": ["人民医院", "中心医院", "卫生院", "妇幼保健院"], "工业零部件": ["机械有限公司", "重工集团"],
                  "SaaS软件": ["科技有限公司", "信息技术公司"], "快消分销": ["商贸有限公司", "连锁超市"]}
CITIES = ["上海", "杭州", "南京", "北京", "天津", "广州", "深圳", "成都", "重庆", "苏州", "宁波"]


def _delay_minutes(rng) -> float | None:
    """Minutes from assignment to a step: fast for most, a long tail, sometimes never."""
    roll = rng.random()
    if roll < 0.45:
        return rng.uniform(0.5, 5)
    if roll < 0.75:
        return rng.uniform(5, 60)
    if roll < 0.9:
        return rng.uniform(60, 60 * 24)
    return None


def seed_leads(*, rng, options) -> str:
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(2**31))
    now = timezone.now()
    regions = list(Region.objects.filter(parent__isnull=True).values_list("name", flat=True)) or ["华东区"]
    count = max(20, options["reps"] * 8)
    channels = vocabulary_codes("channel")
    created = touched = pooled = 0
    from salesflow.org.models import Member

    profiles = list(Member.objects.filter(role="rep").select_related("region").order_by("user_id")
                    .values_list("industries", "product_lines", "region__name"))
    for number in range(count):
        industry = rng.choice(list(INDUSTRY_PRODUCTS))
        product, region = rng.choice(INDUSTRY_PRODUCTS[industry]), rng.choice(regions)
        if profiles and rng.random() < 0.8:  # most enquiries fit somebody's territory; some fit nobody's
            industries, products, region_name = rng.choice(profiles)
            industry, product, region = industries[0], rng.choice(products), region_name or region
        tier = rng.choices(["", "tertiary_hospital", "township_clinic", "secondary_hospital", "sme"],
                           weights=[50, 10, 10, 15, 15])[0] if industry == "医疗器械" else rng.choice(["", "sme", "key_account"])
        data = {
            "company": rng.choice(CITIES) + fake.last_name() + rng.choice(COMPANY_SUFFIX[industry]),
            "contact_name": fake.name(),
            "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
            "email": fake.email() if rng.random() < 0.4 else "",
            "channel": rng.choice(channels),
            "industry": industry,
            "region": region,
            "product_line": product,
            "budget_grade": rng.choices(["A", "B", "C"], weights=[15, 50, 35])[0],
            "industry_match": rng.randint(20, 100),
            "tier": tier,
            "external_id": f"demo-{options['seed']}-{number}",
            "note": rng.choice(["", "官网留言：想了解报价", "展会扫码", "老客户转介绍", "400 电话咨询"]),
        }
        clean, errors = lead_payload_validate(data)
        if errors:
            continue
        arrived = now - dt.timedelta(days=rng.uniform(0, options["days"]), minutes=rng.uniform(0, 600))
        with transaction.atomic():
            result = lead_intake(clean=clean, actor="seed_demo", via="seed_demo", now=arrived)
        if not result.created:
            continue
        created += 1
        lead = result.lead
        if lead.status == LeadStatus.POOL:
            pooled += 1
            if rng.random() < 0.3:
                claimer = Member.objects.filter(role="rep").order_by("user_id")[rng.randrange(options["reps"])].user
                try:
                    lead_claim(actor=claimer, lead=lead, now=arrived + dt.timedelta(hours=rng.uniform(1, 48)))
                except Exception:  # the rep may be full or cooling off; the lead simply stays in the pool
                    continue
            continue
        accept = _delay_minutes(rng)
        if accept is None:
            continue
        accepted_at = arrived + dt.timedelta(minutes=accept)
        if accepted_at < now:
            lead_accept(actor=lead.owner, lead=lead, now=accepted_at)
            touch = _delay_minutes(rng)
            if touch is not None and accepted_at + dt.timedelta(minutes=touch) < now:
                kind = rng.choice(LeadTouch.CONTACT_KINDS)
                lead_touch_record(actor=lead.owner, lead=lead, kind=kind, now=accepted_at + dt.timedelta(minutes=touch))
                touched += 1
    return f"{created} leads ({pooled} to the pool, {touched} touched)"
