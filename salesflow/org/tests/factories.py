import datetime as dt

import factory
from django.contrib.auth import get_user_model

from salesflow.org.models import Member, Region, Role, Team

PASSWORD = "correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Region {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    region = factory.SubFactory(RegionFactory)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    full_name = factory.Faker("name", locale="zh_CN")
    role = Role.REP
    team = factory.SubFactory(TeamFactory)
    region = factory.LazyAttribute(lambda m: m.team.region if m.team else None)
    industries = factory.LazyFunction(lambda: ["医疗器械"])
    product_lines = factory.LazyFunction(lambda: ["影像设备"])
    years_experience = 3
    hire_date = factory.LazyFunction(lambda: dt.date(2022, 3, 1))
    capacity = 50
