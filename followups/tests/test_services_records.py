"""Records: stage moves, append-only follow-ups, templates, the visit log, conversion-free basics."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import InternalError, ProgrammingError, connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from followups.models import ActionTemplate, FollowUp, Light, LocationStatus, Opportunity, Stage, StageChange
from followups.selectors import action_pack_progress
from followups.services import (
    followup_correct,
    followup_from_template,
    followup_log,
    opportunity_stage_change,
    visit_log,
)
from followups.services.records import Location

from .factories import ContactFactory, opportunity_make


def test_every_tenant_starts_with_the_default_pipeline_and_at_least_twelve_bilingual_templates(alpha):
    assert list(Stage.objects.values_list("code", flat=True)) == [
        "initial_contact", "needs_confirmed", "solution_demo", "trial", "negotiation", "won", "lost"
    ]
    templates = ActionTemplate.objects.all()
    assert templates.count() >= 12
    assert all(t.title_zh and t.title_en and t.summary_zh and t.summary_en for t in templates)
    assert {"poc_done", "tender_docs", "cio_joined", "quote_sent", "needs_proposal", "pending_signature"} <= set(
        templates.values_list("code", flat=True)
    )
    assert set(templates.filter(is_visit_outcome=True).values_list("code", flat=True)) == {
        "needs_proposal", "quote_sent", "pending_signature"
    }


def test_a_stage_change_records_who_when_and_from_where_and_is_audited(alpha):
    opp = opportunity_make(owner=alpha.rep, credit=15)
    demo = Stage.objects.get(code="solution_demo")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=demo, via="mobile", ip="10.1.2.3")
    change = StageChange.objects.filter(opportunity=opp).first()
    assert (change.to_stage, change.actor, change.via, change.ip) == (demo, alpha.rep, "mobile", "10.1.2.3")
    entry = AuditEntry.objects.filter(verb="opportunity.stage_changed", target_id=str(opp.pk)).get()
    assert entry.payload["to"] == "solution_demo" and entry.payload["via"] == "mobile"


def test_a_stale_stage_move_is_refused_rather_than_overwriting(alpha):
    opp = opportunity_make(owner=alpha.rep, credit=25)
    stale = Opportunity.objects.get(pk=opp.pk)
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=Stage.objects.get(code="trial"), via="web")
    with pytest.raises(ValidationError):
        opportunity_stage_change(actor=alpha.manager, opportunity=stale, to_stage=Stage.objects.get(code="won"), via="web")
    opp.refresh_from_db()
    assert opp.stage.code == "trial" and opp.is_open


def test_losing_needs_a_reason_and_closes_the_opportunity(alpha):
    opp = opportunity_make(owner=alpha.rep)
    lost = Stage.objects.get(code="lost")
    with pytest.raises(ValidationError):
        opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=lost, via="web")
    opportunity_stage_change(actor=alpha.rep, opportunity=opp, to_stage=lost, via="web", lost_reason="预算取消")
    opp.refresh_from_db()
    assert (opp.is_open, opp.light, opp.lost_reason) == (False, Light.NONE, "预算取消")


def test_a_follow_up_restarts_the_clock_and_cannot_be_edited_or_deleted(alpha):
    long_ago = timezone.now() - dt.timedelta(days=6)
    opp = opportunity_make(owner=alpha.rep, created_at=long_ago, next_due_at=long_ago)
    Opportunity.objects.filter(pk=opp.pk).update(light=Light.RED)
    contact = ContactFactory(account=opp.account)
    followup = followup_log(
        actor=alpha.rep, opportunity=opp, kind="call", summary="确认预算", contacts=[contact],
        next_step="发方案", next_step_due_at=timezone.now() + dt.timedelta(days=2),
    )
    opp.refresh_from_db()
    assert opp.light == Light.GREEN and opp.last_activity_at == followup.occurred_at
    assert opp.next_due_at == followup.next_step_due_at
    assert list(followup.contacts.all()) == [contact]
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        FollowUp.objects.filter(pk=followup.pk).update(summary="改过了")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cursor:
        # Raw SQL: the ORM would stop first at the evidence row that protects the record.
        cursor.execute("DELETE FROM followups_followup WHERE id = %s", [followup.pk])
    correction = followup_correct(actor=alpha.rep, original=followup, summary="确认预算 80 万")
    assert correction.corrects == followup
    followup.refresh_from_db()
    assert followup.summary == "确认预算"


def test_contacts_of_another_customer_are_refused(alpha):
    opp = opportunity_make(owner=alpha.rep)
    stranger = ContactFactory(account=opportunity_make(owner=alpha.rep).account)
    with pytest.raises(ValidationError):
        followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="x", contacts=[stranger])


def test_a_template_produces_a_structured_record_in_one_call(alpha):
    opp = opportunity_make(owner=alpha.rep)
    template = ActionTemplate.objects.get(code="poc_done")
    followup = followup_from_template(actor=alpha.rep, opportunity=opp, template=template)
    assert (followup.kind, followup.action, followup.template) == (template.kind, "poc", template)
    assert followup.summary == template.summary and followup.next_step == template.next_step
    assert followup.next_step_due_at - followup.occurred_at == dt.timedelta(days=template.next_step_days)


def test_the_visit_log_takes_only_visit_outcomes_and_keeps_the_location_or_why_not(alpha):
    opp = opportunity_make(owner=alpha.rep)
    quoted = ActionTemplate.objects.get(code="quote_sent")
    here = Location(status=LocationStatus.GIVEN, latitude=Decimal("31.230416"), longitude=Decimal("121.473701"), accuracy_m=12)
    visit = visit_log(actor=alpha.rep, opportunity=opp, outcome=quoted, location=here)
    assert (visit.kind, visit.location_status, visit.latitude) == ("visit", "given", Decimal("31.230416"))
    refused = visit_log(actor=alpha.rep, opportunity=opp, outcome=quoted, location=Location(status=LocationStatus.REFUSED))
    assert refused.location_status == "refused" and refused.latitude is None
    with pytest.raises(ValidationError):
        visit_log(actor=alpha.rep, opportunity=opp, outcome=ActionTemplate.objects.get(code="poc_done"), location=here)


def test_the_action_pack_counts_follow_ups_made_in_the_current_stage(alpha):
    opp = opportunity_make(owner=alpha.rep)
    for _ in range(3):
        followup_log(actor=alpha.rep, opportunity=opp, kind="call", summary="触达")
    followup_from_template(actor=alpha.rep, opportunity=opp, template=ActionTemplate.objects.get(code="needs_diagnosed"))
    progress = {line.requirement.action: (line.done, line.complete) for line in action_pack_progress(opportunity=opp)}
    assert progress == {"touch": (3, True), "needs_diagnosis": (1, True), "proposal": (0, False)}


def test_evidence_is_stored_under_the_tenants_own_folder(alpha):
    opp = opportunity_make(owner=alpha.rep)
    upload = SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")
    followup = followup_log(actor=alpha.rep, opportunity=opp, kind="meeting", summary="会议", files=[upload])
    attachment = followup.attachments.get()
    assert f"/{connection.schema_name}/followups/" in attachment.file.path
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 minutes"
    assert attachment.size == len(b"%PDF-1.4 minutes") and attachment.original_name == "会议纪要.pdf"
