"""Schema-driven fuzzing of every door a lead comes in by: zero server errors.

Hypothesis runs a fixed number of derandomized examples per door so CI time stays at a few
seconds each; a failure prints the smallest body that caused it.
"""
import csv
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leads.models import ImportJob
from leads.services.imports import import_job_run, import_job_start, import_preview
from salesflow.csvtext import CsvEncodingError
from leads.services.validation import FIELDS
from tests.strategies import body_from_schema, form_encoded, form_values, json_bytes, nasty_text, near_valid, raw_bodies

from .test_api import GOOD, api  # noqa: F401 (fixture)

CI = settings(max_examples=60, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture
def lead_in_schema(alpha, client_for):
    return client_for(alpha).get("/api/v1/openapi.json").json()["components"]["schemas"]["LeadIn"]


def test_the_intake_api_never_answers_a_server_error(alpha, api, lead_in_schema):
    seen, calls = set(), []

    bodies = st.one_of(near_valid(GOOD, lead_in_schema, unique="phone"), body_from_schema(lead_in_schema))

    @CI
    @given(body=st.one_of(bodies.map(json_bytes), raw_bodies))
    def run(body):
        response = api(body)
        seen.add(response.status_code)
        calls.append(1)
        assert response.status_code in (200, 201, 400, 413), (body[:300], response.content[:300])
        assert set(response.json()) <= {"id", "status", "owner", "routing", "duplicate", "errors"}

    run()
    assert {201, 400} <= seen and len(calls) >= 60


@pytest.fixture
def open_form(settings):
    settings.WEB_FORM_POSTS_PER_ADDRESS = 10**6


def test_the_web_form_never_answers_a_server_error(alpha, client_for, open_form):
    client = client_for(alpha)
    names = ["company", "contact_name", "phone", "email", "industry", "region", "product_line", "note", "website"]

    @CI
    @given(fields=st.dictionaries(st.sampled_from(names) | nasty_text,
                                  form_values, max_size=9))
    def run(fields):
        response = client.post(reverse("leads:web-form"), data=form_encoded(fields),
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code in (200, 302, 400), (fields, response.status_code)

    run()


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["company", "contact_name", "phone", "email", "budget_grade", "industry_match"], *rows])
    return out.getvalue().encode(encoding, "surrogatepass")


csv_files = st.one_of(
    st.builds(_csv_bytes, st.lists(st.lists(nasty_text, max_size=7), max_size=6), st.sampled_from(["utf-8", "utf-8-sig"])),
    st.binary(max_size=400),
)


def test_the_csv_import_never_fails_and_accounts_for_every_row(alpha):
    """Every row is accounted for; a file no supported encoding reads cleanly is refused whole
    (salesflow.csvtext) rather than imported as mojibake."""
    @settings(CI, max_examples=30)
    @given(data=csv_files)
    @example(data=b"\r\x00")  # a lone carriage return: csv.Error before
    @example(data=b"company,contact_name\n" + b"x" * 140000)  # a field over the csv module's limit
    def run(data):
        job = ImportJob.objects.create(file=ContentFile(data, name="fuzz.csv"), created_by=alpha.admin)
        try:
            _, _, guess = import_preview(job)
            decodable = True
        except CsvEncodingError:
            guess, decodable = {}, False
        mapping = guess or {"1": "contact_name", "2": "phone"}
        import_job_start(actor=alpha.admin, job=job, mapping=mapping, queue=False)
        job = import_job_run(job_id=job.pk)
        if not decodable:
            assert job.status == ImportJob.Status.FAILED and job.created_leads == 0 and len(job.errors) == 1
            return
        assert job.status == ImportJob.Status.DONE and job.encoding
        assert job.created_leads + job.duplicate_rows + len(job.errors) == job.total_rows

    run()


def test_the_finance_webhook_never_answers_a_server_error(alpha, client_for):
    """The finance webhook, driven by its OpenAPI schema: every body signed, so the fuzzer gets past
    the signature to validation, the opportunity lookup and idempotency."""
    import hashlib
    import hmac
    import time

    from followups.tests.factories import opportunity_make
    from forecasting.services.finance_secret import finance_secret_get

    client, secret = client_for(alpha), finance_secret_get().encode()
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["PrepaymentIn"]
    opp = opportunity_make(owner=alpha.rep)
    valid = {"opportunity": opp.pk, "amount": "100.00", "currency": "CNY", "received_at": "2026-11-30T10:00:00+08:00",
             "reference": "fuzz"}
    hostile = {name: st.one_of(st.from_regex(r"\A\d{1,13}(\.\d{0,3})?\Z"), json_values_or_ints)
               for name in schema["properties"]}
    near = st.builds(lambda n, changes: {**valid, "reference": f"fuzz-{n}", **changes}, st.integers(0, 10**8),
                     st.fixed_dictionaries({}, optional=hostile).filter(lambda changes: len(changes) <= 2))
    seen = set()

    @CI
    @given(body=st.one_of(near.map(json_bytes), body_from_schema(schema).map(json_bytes), raw_bodies))
    def run(body):
        stamp = str(int(time.time()))
        signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        response = client.post("/api/v1/finance/prepayments", data=body, content_type="application/json",
                               HTTP_X_SALESFLOW_SIGNATURE=f"t={stamp},v1={signature}")
        seen.add(response.status_code)
        assert response.status_code in (200, 201, 400, 404, 413), (body[:300], response.content[:300])
        assert set(response.json()) <= {"id", "opportunity", "credit", "duplicate", "errors"}

    run()
    assert {201, 400} <= seen


json_values_or_ints = st.one_of(st.integers(), st.none(), st.booleans(), nasty_text, st.floats())
