"""seed_demo: the demo tenant's finance user (records prepayments on the finance page)."""
from django.contrib.auth.hashers import make_password
from django.db import transaction

from salesflow.org.demo import DEMO_PASSWORD, _user
from salesflow.org.models import Member, Role


def seed_finance(*, rng, options) -> str:
    with transaction.atomic():
        user = _user("finance", "finance@demo.example.com", make_password(DEMO_PASSWORD))
        Member.objects.update_or_create(user=user, defaults={"full_name": "钱会计", "role": Role.FINANCE})
    return "finance user: finance"
