"""The demo's closed deals carry the seed's signal, so the page has something true to show."""
import random

from audit.attribution.demo import seed_attribution
from audit.attribution.selectors import ROLE, attribution_sides, closed_deals
from audit.models import AuditEntry
from salesflow.org.demo import seed_org
from salesflow.org.models import Region


def _cio(side):
    return next(c for c in side.comparisons if (c.dimension, c.code) == (ROLE, "cio"))


def test_the_cio_touch_separates_wins_in_east_china_but_not_in_south_china(alpha):
    options = {"reps": 16, "opportunities": 1000, "days": 90, "seed": 1}
    seed_org(rng=random.Random(1), options=options)
    summary = seed_attribution(rng=random.Random(2), options=options)
    assert summary.startswith("500 closed deals")
    # The cast's 上海 (under 华东区) gets the default pattern, which dilutes 华东区's a little here.
    east, south = Region.objects.get(name="华东区"), Region.objects.get(name="华南区")
    left, right = attribution_sides(deals=closed_deals(user=alpha.admin), left_region_id=east.pk,
                                    right_region_id=south.pk, window_days=30)
    assert left.deals > 60 and right.deals > 60
    east_cio, south_cio = _cio(left), _cio(right)
    assert east_cio.lost_lacking > 0.6 and east_cio.separation > 0.3 and east_cio.q < 0.001
    assert south_cio.share_of_won > 0.85 and abs(south_cio.separation) < 0.15
    # The late touches of every key person fall outside the window: counting them would blur the signal.
    everything = attribution_sides(deals=closed_deals(user=alpha.admin), left_region_id=east.pk,
                                   right_region_id=None, window_days=365)[0]
    assert _cio(everything).separation < east_cio.separation


def test_it_seeds_once(alpha):
    options = {"reps": 4, "opportunities": 0, "days": 30, "seed": 1}
    seed_org(rng=random.Random(1), options=options)
    seed_attribution(rng=random.Random(2), options=options)
    assert seed_attribution(rng=random.Random(2), options=options).endswith("nothing seeded")
    assert AuditEntry.objects.filter(verb="demo.attribution_seeded").count() == 1
