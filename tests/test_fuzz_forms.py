"""The signed-in forms take hostile bytes without a server error: bad fields are form errors.

Each form gets its own field names plus strangers, every value hostile or plain; Hypothesis
runs a fixed, derandomized number of posts per form.
"""
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followups.forms import FollowUpForm, StageForm, VisitForm
from leads.forms import LeadForm, ReassignForm, TouchForm
from salesflow.org.forms import AvailabilityForm
from tests.strategies import form_encoded, form_values, nasty_text

CI = settings(max_examples=15, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _fields(form_class) -> list[str]:
    return list(form_class.base_fields) + ["next"]


def _fuzz(client, url: str, names: list[str]):
    statuses = []

    @CI
    @given(fields=st.dictionaries(st.sampled_from(names) | nasty_text, form_values, max_size=len(names) + 1))
    def run(fields):
        response = client.post(url, data=form_encoded(fields), content_type="application/x-www-form-urlencoded")
        statuses.append(response.status_code)
        assert response.status_code < 500, (url, fields)
        if response.status_code in (301, 302):
            assert not response["Location"].startswith("//") and "evil" not in response["Location"]

    run()
    return statuses


@pytest.fixture
def opportunity(alpha):
    from followups.tests.factories import opportunity_make

    return opportunity_make(owner=alpha.rep)


def test_the_lead_forms_never_answer_a_server_error(alpha, client_for):
    from leads.tests.factories import lead_submit

    lead = lead_submit(company="模糊测试医院", budget_grade="C").lead
    manager = client_for(alpha, alpha.manager)
    _fuzz(manager, reverse("leads:create"), _fields(LeadForm))
    _fuzz(manager, reverse("leads:reassign", args=[lead.pk]), _fields(ReassignForm))
    _fuzz(client_for(alpha, alpha.rep), reverse("leads:touch", args=[lead.pk]), _fields(TouchForm))


def test_the_followup_forms_never_answer_a_server_error(alpha, client_for, opportunity):
    rep = client_for(alpha, alpha.rep)
    _fuzz(rep, reverse("followups:followup-create", args=[opportunity.pk]), _fields(FollowUpForm))
    _fuzz(rep, reverse("followups:visit", args=[opportunity.pk]), _fields(VisitForm))
    _fuzz(rep, reverse("followups:stage", args=[opportunity.pk]), _fields(StageForm))


def test_the_shell_forms_never_answer_a_server_error(alpha, client_for):
    _fuzz(client_for(alpha, alpha.rep), reverse("my-availability"), _fields(AvailabilityForm))
    _fuzz(client_for(alpha, alpha.rep), reverse("set_language"), ["language", "next"])
    _fuzz(client_for(alpha), reverse("login"), ["username", "password", "next"])
