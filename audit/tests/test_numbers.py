"""Any JSON number an entry carries hashes the same before and after jsonb has stored it."""
import json
import math

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.canonical import _numbers_as_jsonb, canonical_json
from audit.selectors import audit_chain_verify
from audit.services import audit_record


def _record(actor, payload):
    with transaction.atomic():
        return audit_record(actor=actor, verb="test.recorded", payload=payload)


@pytest.mark.parametrize("number", [1e23, 1e16, -1e300, 12345678901234567890.0, -0.0, 2.5e-10, 1.0, 0.1, 10**30])
def test_a_number_jsonb_rewrites_still_verifies(alpha, number):
    entry = _record(alpha.admin, {"n": number, "list": [number]})
    verdict = audit_chain_verify()
    assert verdict.intact, verdict.problem
    assert entry.payload["n"] == entry.payload["list"][0]


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_json_cannot_hold_is_refused(number):
    with pytest.raises(ValueError):
        canonical_json({"n": number})


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(numbers=st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers()), min_size=1, max_size=5))
def test_any_finite_json_number_round_trips_through_the_chain(alpha, numbers):
    _record(alpha.admin, {"numbers": numbers})
    verdict = audit_chain_verify()
    assert verdict.intact, (numbers, verdict.problem)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(value=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.sampled_from([-0.0, 1e23, 1e16, 2.5e-10, "e+1", "-0.0", "名-e-", "line-end"]), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.tuples(children, children),
                               st.dictionaries(st.text(max_size=4), children, max_size=4)),
    max_leaves=12))
def test_the_canonical_text_is_that_of_the_value_with_every_number_as_jsonb_gives_it_back(value):
    as_stored = json.dumps(_numbers_as_jsonb(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False)
    assert canonical_json(value) == as_stored
