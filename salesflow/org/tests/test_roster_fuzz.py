"""The roster import answers every hostile file with row problems, never a database error."""
import csv
import io

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesflow.org.roster import COLUMNS, roster_import
from tests.strategies import nasty_text

VALID = {"username": "fuzz_rep", "email": "fuzz@example.com", "full_name": "测试", "role": "rep", "region": "华东",
         "team": "一组", "manager_username": "", "industries": "医疗", "product_lines": "影像", "years_experience": "3",
         "hire_date": "2024-03-01", "capacity": "20"}
cells = st.one_of(nasty_text, st.text(min_size=100, max_size=400), st.sampled_from(["rep", "manager", "", "-1", "2024-02-30"]))


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.lists(st.dictionaries(st.sampled_from(COLUMNS), cells, max_size=2), min_size=1, max_size=3))
def test_a_hostile_roster_is_refused_row_by_row_not_by_the_database(alpha, changes):
    rows = [{**VALID, "username": f"fuzz_{n}", "email": f"fuzz{n}@example.com", **change} for n, change in enumerate(changes)]
    with transaction.atomic():  # a savepoint per example: one example's writes never meet the next
        result = roster_import(actor=alpha.admin, text=_csv(rows))
        transaction.set_rollback(True)
    assert result.ok or result.errors
