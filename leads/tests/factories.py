import itertools

from django.db import transaction

from leads.models import Channel
from leads.services import lead_intake, lead_payload_validate

_phones = itertools.count(13900000000)


def lead_submit(*, actor="test", via="test", **fields):
    """A lead through the real intake (validated, scored, routed); a fresh phone unless one is given."""
    data = {"contact_name": "王经理", "company": "测试医院", "phone": str(next(_phones)), "channel": Channel.API, **fields}
    clean, errors = lead_payload_validate({k: v for k, v in data.items() if v is not None}, coerce_strings=True)
    assert not errors, errors
    with transaction.atomic():
        return lead_intake(clean=clean, actor=actor, via=via)
