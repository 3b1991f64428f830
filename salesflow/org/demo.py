"""Demo organisation for seed_demo: regions, teams, managers and reps with realistic profiles."""
import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from audit.services import audit_record

from .models import Availability, Holiday, Member, Region, Role, Team, TenantSettings
from .vocabularies import vocabulary_defaults_install

DEMO_PASSWORD = "salesflow-demo"
REGIONS = [
    ("华东区", ["上海一组", "杭州组", "南京组"]),
    ("华北区", ["北京一组", "天津组"]),
    ("华南区", ["广州组", "深圳组"]),
    ("西南区", ["成都组", "重庆组"]),
]
INDUSTRY_PRODUCTS = {
    "医疗器械": ["影像设备", "检验试剂", "手术耗材"],
    "工业零部件": ["液压件", "传动件", "密封件"],
    "SaaS软件": ["CRM套件", "数据平台"],
    "快消分销": ["饮料", "日化"],
}
# Mainland public holidays of the coming year, with the weekend days worked in lieu.
HOLIDAYS_2026 = [
    ("2026-01-01", "元旦", False), ("2026-02-16", "春节", False), ("2026-02-17", "春节", False),
    ("2026-02-18", "春节", False), ("2026-02-19", "春节", False), ("2026-02-20", "春节", False),
    ("2026-02-14", "春节调休", True), ("2026-04-06", "清明节", False), ("2026-05-01", "劳动节", False),
    ("2026-06-19", "端午节", False), ("2026-09-25", "中秋节", False), ("2026-10-01", "国庆节", False),
    ("2026-10-02", "国庆节", False), ("2026-10-05", "国庆节", False), ("2026-10-10", "国庆调休", True),
]


def _faker(rng, locale: str) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(rng.randrange(2**31))
    return fake


def _user(username: str, email: str, password_hash: str):
    return get_user_model().objects.get_or_create(username=username, defaults={"email": email, "password": password_hash})[0]


def _profile(rng, today: dt.date) -> dict:
    industry = rng.choice(list(INDUSTRY_PRODUCTS))
    products = INDUSTRY_PRODUCTS[industry]
    years = rng.choice([0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 12])
    hired = today - dt.timedelta(days=rng.randint(20, 360) if years == 0 else 365 * years + rng.randint(0, 300))
    availability = rng.choices(
        [Availability.AVAILABLE, Availability.ON_LEAVE, Availability.UNAVAILABLE], weights=[88, 8, 4]
    )[0]
    away_from = away_until = None
    if availability != Availability.AVAILABLE:
        away_from = today - dt.timedelta(days=rng.randint(0, 3))
        away_until = today + dt.timedelta(days=rng.randint(1, 10))
    return {
        "industries": [industry] + ([rng.choice(list(INDUSTRY_PRODUCTS))] if rng.random() < 0.25 else []),
        "product_lines": rng.sample(products, k=rng.randint(1, len(products))),
        "years_experience": years,
        "hire_date": hired,
        "capacity": rng.choice([30, 40, 50, 60, 80]),
        "availability": availability,
        "away_from": away_from,
        "away_until": away_until,
    }


def _seed_calendar():
    TenantSettings.objects.filter(pk=1, weekend_days=[]).update(weekend_days=[5, 6])
    for day, name, workday in HOLIDAYS_2026:
        Holiday.objects.get_or_create(date=dt.date.fromisoformat(day), defaults={"name": name, "is_workday": workday})


def seed_org(*, rng, options) -> str:
    """Regions → teams → managers and reps; idempotent for the same tenant and seed."""
    zh, en = _faker(rng, "zh_CN"), _faker(rng, "en_US")
    today = timezone.localdate()
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: 200 hashes would take a minute
    with transaction.atomic():
        vocabulary_defaults_install(actor="seed_demo")
        _seed_calendar()
        director = _user("director", "director@demo.example.com", password_hash)
        Member.objects.update_or_create(user=director, defaults={"full_name": "周建国", "role": Role.MANAGER})
        teams: list[Team] = []
        manager_no = 0
        for region_name, team_names in REGIONS:
            region, _ = Region.objects.get_or_create(name=region_name, defaults={"director": director})
            for team_name in team_names:
                manager_no += 1
                manager = _user(f"manager{manager_no}", f"manager{manager_no}@demo.example.com", password_hash)
                Member.objects.update_or_create(
                    user=manager,
                    defaults={"full_name": zh.name(), "role": Role.MANAGER, "region": region, "years_experience": rng.randint(6, 15)},
                )
                team, _ = Team.objects.get_or_create(name=team_name, defaults={"region": region, "manager": manager})
                Member.objects.filter(user=manager).update(team=team)
                teams.append(team)
        for number in range(1, options["reps"] + 1):
            team = teams[(number - 1) % len(teams)]
            name = en.name() if rng.random() < 0.15 else zh.name()
            user = _user(f"rep{number:03d}", f"rep{number:03d}@demo.example.com", password_hash)
            Member.objects.update_or_create(
                user=user,
                defaults={"full_name": name, "role": Role.REP, "team": team, "region": team.region, **_profile(rng, today)},
            )
        audit_record(
            actor="seed_demo",
            verb="demo.org_seeded",
            target_type="org.member",
            payload={"regions": len(REGIONS), "teams": len(teams), "reps": options["reps"], "seed": options["seed"]},
        )
    return f"{len(REGIONS)} regions, {len(teams)} teams, {options['reps']} reps"
