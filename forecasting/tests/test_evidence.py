"""Evidence from every follow-up record, the manager's review, and the stored credit score."""
import io

import pytest
from django.utils import translation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from followups.models import ActionTemplate, Opportunity
from followups.services import followup_correct, followup_from_template, followup_log, lead_convert, visit_log
from followups.services.records import Location
from followups.tests.factories import opportunity_make
from forecasting.models import CreditPolicy, Evidence, EvidenceLevel, EvidenceReview, EvidenceSource, EvidenceState
from forecasting.services.evidence import (
    EvidenceLocked,
    ReviewConflict,
    credit_differences,
    evidence_add,
    evidence_review,
)
from leads.models import LeadStatus
from leads.services import lead_claim
from leads.tests.factories import lead_submit
from salesflow.notifications.models import Notification


@pytest.fixture
def opp(alpha):
    return opportunity_make(owner=alpha.rep)


def _evidence(opp):
    return list(Evidence.objects.filter(opportunity=opp).order_by("id").values_list("source", "level", "points"))


def _credit(opp) -> int:
    return Opportunity.objects.values_list("credit_score", flat=True).get(pk=opp.pk)


def test_a_plain_text_follow_up_is_weak_evidence_worth_two_points(alpha, opp):
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="讨论了需求")
    assert _evidence(opp) == [(EvidenceSource.NOTE, EvidenceLevel.WEAK, 2)]
    assert _credit(opp) == 2


@pytest.mark.parametrize("name,content_type", [("纪要.pdf", "application/pdf"), ("白板.jpg", "image/jpeg")])
def test_minutes_uploaded_as_pdf_or_image_are_medium_evidence(alpha, opp, name, content_type):
    upload = SimpleUploadedFile(name, b"%PDF-1.4 minutes", content_type=content_type)
    followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="技术交流", files=[upload])
    assert _evidence(opp) == [(EvidenceSource.MINUTES, EvidenceLevel.MEDIUM, 6)]
    assert _credit(opp) == 6


def test_another_attachment_is_not_minutes(alpha, opp):
    upload = SimpleUploadedFile("报价.xlsx", b"xx", content_type="application/vnd.ms-excel")
    followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="报价", files=[upload])
    assert _evidence(opp) == [(EvidenceSource.NOTE, EvidenceLevel.WEAK, 2)]


def test_templates_and_visits_produce_evidence_but_a_correction_does_not(alpha, opp):
    template = ActionTemplate.objects.get(code="intro_call")
    first = followup_from_template(actor=alpha.rep, opportunity=opp, template=template)
    visit_log(actor=alpha.rep, opportunity=opp, outcome=ActionTemplate.objects.get(code="quote_sent"),
              location=Location(status="refused"))
    followup_correct(actor=alpha.rep, original=first, summary="首次电话，确认预算")
    assert [row[0] for row in _evidence(opp)] == [EvidenceSource.NOTE, EvidenceSource.NOTE]
    assert _credit(opp) == 4


def test_points_come_from_the_tenants_credit_policy(alpha, opp):
    CreditPolicy.objects.update_or_create(pk=1, defaults={"weak_points": 3})
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="通话")
    assert _credit(opp) == 3


def test_a_lead_the_customer_submitted_converts_with_strong_evidence(alpha):
    lead = lead_submit(company="仁济医院", contact_name="陈主任", channel="api")
    lead = lead.lead
    if lead.owner_id != alpha.rep.pk:
        assert lead.status == LeadStatus.POOL, "the fixture tenant routes a lead to its one rep or leaves it in the pool"
        lead_claim(actor=alpha.rep, lead=lead)
    lead.refresh_from_db()
    opportunity = lead_convert(actor=alpha.rep, lead=lead)
    assert _evidence(opportunity) == [(EvidenceSource.CUSTOMER_SUBMISSION, EvidenceLevel.STRONG, 10)]
    assert opportunity.credit_score == 10


def test_a_lead_typed_in_by_a_rep_converts_without_evidence(alpha):
    lead = lead_submit(company="瑞金医院", contact_name="王主任", channel="manual", via="manual").lead
    if lead.owner_id != alpha.rep.pk:
        assert lead.status == LeadStatus.POOL, "the fixture tenant routes a lead to its one rep or leaves it in the pool"
        lead_claim(actor=alpha.rep, lead=lead)
    lead.refresh_from_db()
    opportunity = lead_convert(actor=alpha.rep, lead=lead)
    assert _evidence(opportunity) == [] and opportunity.credit_score == 0


def _minutes(alpha, opp):
    upload = SimpleUploadedFile("纪要.pdf", b"%PDF", content_type="application/pdf")
    followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="交流", files=[upload])
    return Evidence.objects.filter(opportunity=opp).latest("id")


def test_the_manager_downgrades_medium_evidence_with_a_reason_and_the_rep_is_told(alpha, opp):
    item = _minutes(alpha, opp)
    review = evidence_review(actor=alpha.manager, evidence_id=item.pk, action="downgrade", reason="纪要只有一行字")
    item.refresh_from_db()
    assert (item.level, item.points, item.state) == (EvidenceLevel.WEAK, 2, EvidenceState.DOWNGRADED)
    assert (review.points_before, review.points_after, review.reason) == (6, 2, "纪要只有一行字")
    assert _credit(opp) == 2
    entry = AuditEntry.objects.get(verb="evidence.downgraded", target_id=str(item.pk))
    assert entry.reason == "纪要只有一行字" and entry.actor_id == alpha.manager.pk
    note = Notification.objects.get(recipient=alpha.rep, event_key=f"evidence.review:{review.pk}")
    assert note.message["body"]["params"]["reason"] == "纪要只有一行字"


def test_the_manager_rejects_weak_evidence_and_it_counts_nothing(alpha, opp):
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="讨论需求")
    item = Evidence.objects.get(opportunity=opp)
    evidence_review(actor=alpha.director, evidence_id=item.pk, action="reject", reason="没有实质内容")
    item.refresh_from_db()
    assert (item.points, item.state) == (0, EvidenceState.REJECTED)
    assert _credit(opp) == 0


def test_strong_evidence_is_locked(alpha, opp):
    with pytest.raises(EvidenceLocked):
        from django.db import transaction

        with transaction.atomic():
            strong = evidence_add(actor=alpha.rep, opportunity_id=opp.pk, source=EvidenceSource.CUSTOMER_CONFIRMATION)
        evidence_review(actor=alpha.manager, evidence_id=strong.pk, action="reject", reason="不信")
    assert not EvidenceReview.objects.exists() and _credit(opp) == 10


@pytest.mark.parametrize("action,reason,error", [
    ("downgrade", "   ", ValidationError),  # a reason is required
    ("reject", "不对", ReviewConflict),  # medium cannot be rejected directly
    ("delete", "x", ValidationError),
])
def test_a_review_without_a_reason_or_of_the_wrong_kind_changes_nothing(alpha, opp, action, reason, error):
    item = _minutes(alpha, opp)
    with pytest.raises(error):
        evidence_review(actor=alpha.manager, evidence_id=item.pk, action=action, reason=reason)
    item.refresh_from_db()
    assert item.state == EvidenceState.ACCEPTED and _credit(opp) == 6


def test_a_second_review_of_the_same_item_is_refused(alpha, opp):
    item = _minutes(alpha, opp)
    evidence_review(actor=alpha.manager, evidence_id=item.pk, action="downgrade", reason="太简略")
    with pytest.raises(ReviewConflict):
        evidence_review(actor=alpha.director, evidence_id=item.pk, action="downgrade", reason="太简略")
    assert EvidenceReview.objects.filter(evidence=item).count() == 1


def test_a_downgraded_item_can_later_be_rejected_once_and_a_rejection_is_final(alpha, opp, client_for):
    item = _minutes(alpha, opp)
    evidence_review(actor=alpha.manager, evidence_id=item.pk, action="downgrade", reason="纪要太简略")
    queue = client_for(alpha, alpha.manager).get("/evidence/review/").content.decode()
    assert f'id="ev-{item.pk}"' in queue  # still in the queue: it may be rejected
    assert 'value="reject"' in queue
    evidence_review(actor=alpha.director, evidence_id=item.pk, action="reject", reason="客户否认开过会")
    item.refresh_from_db()
    assert (item.level, item.points, item.state) == (EvidenceLevel.WEAK, 0, EvidenceState.REJECTED)
    assert _credit(opp) == 0 and credit_differences() == []
    reviews = list(EvidenceReview.objects.filter(evidence=item).order_by("id").values_list(
        "action", "points_before", "points_after"))
    assert reviews == [("downgrade", 6, 2), ("reject", 2, 0)]
    rejected = AuditEntry.objects.get(verb="evidence.rejected", target_id=str(item.pk))
    assert rejected.payload["state_before"] == "downgraded" and rejected.reason == "客户否认开过会"
    for action in ("reject", "downgrade"):
        with translation.override("en"), pytest.raises(ReviewConflict, match="rejected already"):
            evidence_review(actor=alpha.manager, evidence_id=item.pk, action=action, reason="再来一次")
    assert EvidenceReview.objects.filter(evidence=item).count() == 2
    assert f'id="ev-{item.pk}"' not in client_for(alpha, alpha.manager).get("/evidence/review/").content.decode()


def test_a_downgraded_item_cannot_be_downgraded_twice(alpha, opp):
    item = _minutes(alpha, opp)
    evidence_review(actor=alpha.manager, evidence_id=item.pk, action="downgrade", reason="太简略")
    with translation.override("zh-hans"), pytest.raises(ReviewConflict, match="已被降级；仍可驳回"):
        evidence_review(actor=alpha.director, evidence_id=item.pk, action="downgrade", reason="太简略")


@pytest.mark.parametrize("who", ["rep", "other_manager", "other_rep"])
def test_only_the_owners_manager_reviews(alpha, opp, who):
    item = _minutes(alpha, opp)
    with pytest.raises(PermissionDenied):
        evidence_review(actor=getattr(alpha, who), evidence_id=item.pk, action="downgrade", reason="不行")
    assert not EvidenceReview.objects.exists() and _credit(opp) == 6


def test_recomputing_from_the_rows_gives_the_stored_credit_after_adds_and_reviews(alpha, opp):
    second = opportunity_make(owner=alpha.rep, name="第二个项目")
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="通话")
    medium = _minutes(alpha, opp)
    weak = Evidence.objects.filter(opportunity=opp, source=EvidenceSource.NOTE).get()
    _minutes(alpha, second)
    evidence_review(actor=alpha.manager, evidence_id=medium.pk, action="downgrade", reason="简略")
    evidence_review(actor=alpha.manager, evidence_id=weak.pk, action="reject", reason="空话")
    assert credit_differences() == []
    assert (_credit(opp), _credit(second)) == (2, 6)


def test_recompute_credit_reports_and_repairs_a_tampered_score(alpha, opp):
    followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="通话")
    Opportunity.objects.filter(pk=opp.pk).update(credit_score=40)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("recompute_credit", schema="alpha", check=True, stdout=out)
    assert exited.value.code == 1
    assert f"opportunity {opp.pk}: stored=40 evidence=2" in out.getvalue()
    assert "recompute credit alpha: differ=1" in out.getvalue()
    assert _credit(opp) == 40  # --check changes nothing
    out = io.StringIO()
    call_command("recompute_credit", schema="alpha", stdout=out)
    assert "recompute credit alpha: fixed=1" in out.getvalue() and _credit(opp) == 2
    out = io.StringIO()
    call_command("recompute_credit", schema="alpha", check=True, stdout=out)
    assert "differ=0" in out.getvalue()
    assert audit_chain_verify().intact
