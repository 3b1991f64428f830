"""Real threads against real PostgreSQL, in a tenant whose writes commit: reviews and gates under races."""
import threading

from django.db import connections
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from followups.models import Opportunity, Stage
from followups.services import followup_log, opportunity_stage_change
from followups.tests.factories import opportunity_make
from forecasting.models import Evidence, EvidenceReview
from forecasting.services.evidence import credit_differences, evidence_review
from salesflow.org.models import Role
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory


def _race(targets):
    barrier = threading.Barrier(len(targets))
    results, failures = [], []

    def work(target):
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected and asserted by the caller
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def _cast(schema):
    with schema_context(schema):
        manager = MemberFactory(user=UserFactory(username="boss"), role=Role.MANAGER, team=None).user
        director = MemberFactory(user=UserFactory(username="boss2"), role=Role.ADMIN, team=None).user
        team = TeamFactory(name="并发组", manager=manager)
        rep = MemberFactory(user=UserFactory(username="seller"), team=team).user
    return manager, director, rep


def test_concurrent_reviews_of_the_same_item_leave_exactly_one(django_db_setup, committed_tenant):
    schema = committed_tenant.schema_name
    manager, admin, rep = _cast(schema)
    with schema_context(schema):
        opp = opportunity_make(owner=rep)
        followup_log(actor=rep, opportunity=opp, kind="call", summary="讨论需求")
        item = Evidence.objects.get(opportunity=opp)

    def review(actor):
        def run():
            with schema_context(schema):
                return evidence_review(actor=actor, evidence_id=item.pk, action="reject", reason=f"by {actor.username}")
        return run

    results, failures = _race([review(manager), review(admin), review(manager), review(admin)])
    assert len(results) == 1 and len(failures) == 3
    with schema_context(schema):
        assert EvidenceReview.objects.filter(evidence=item).count() == 1
        assert Opportunity.objects.get(pk=opp.pk).credit_score == 0
        assert credit_differences() == [] and audit_chain_verify().intact


def test_racing_downgrades_then_racing_rejections_leave_one_review_per_step(django_db_setup, committed_tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    schema = committed_tenant.schema_name
    manager, admin, rep = _cast(schema)
    with schema_context(schema):
        opp = opportunity_make(owner=rep)
        minutes = SimpleUploadedFile("纪要.pdf", b"%PDF", content_type="application/pdf")
        followup_log(actor=rep, opportunity=opp, kind="meeting", summary="交流", files=[minutes])
        item = Evidence.objects.get(opportunity=opp)
        assert item.points == 6

    def review(actor, action):
        def run():
            with schema_context(schema):
                return evidence_review(actor=actor, evidence_id=item.pk, action=action, reason=f"{action} {actor.username}")
        return run

    results, failures = _race([review(manager, "downgrade"), review(admin, "downgrade"), review(manager, "downgrade")])
    assert len(results) == 1 and len(failures) == 2
    results, failures = _race([review(manager, "reject"), review(admin, "reject"), review(admin, "downgrade")])
    assert len(results) == 1 and len(failures) == 2
    with schema_context(schema):
        assert sorted(EvidenceReview.objects.filter(evidence=item).values_list("action", flat=True)) == [
            "downgrade", "reject"]
        assert Opportunity.objects.get(pk=opp.pk).credit_score == 0
        assert AuditEntry.objects.filter(target_id=str(item.pk), verb__in=["evidence.downgraded", "evidence.rejected"]).count() == 2
        assert credit_differences() == [] and audit_chain_verify().intact


def test_a_move_racing_a_rejection_never_passes_the_gate_on_a_stale_score(django_db_setup, committed_tenant):
    """25 points: a move into negotiation races the rejection of a weak item (25 → 23). Either the move
    came first (and was allowed at 25) or it was refused: never a move recorded after the drop."""
    schema = committed_tenant.schema_name
    manager, _admin, rep = _cast(schema)
    for round_ in range(6):
        with schema_context(schema):
            opp = opportunity_make(owner=rep, stage="trial", name=f"竞态{round_}", credit=23)
            followup_log(actor=rep, opportunity=opp, kind="call", summary="通话")
            weak = Evidence.objects.filter(opportunity=opp, source="note").get()
            stale = Opportunity.objects.get(pk=opp.pk)
            negotiation = Stage.objects.get(code="negotiation")
            assert stale.credit_score == 25

        def move():
            with schema_context(schema):
                return opportunity_stage_change(actor=rep, opportunity=stale, to_stage=negotiation, via="web")

        def reject():
            with schema_context(schema):
                return evidence_review(actor=manager, evidence_id=weak.pk, action="reject", reason="空话")

        _race([move, reject])
        with schema_context(schema):
            current = Opportunity.objects.get(pk=opp.pk)
            assert current.credit_score == 23
            moved = AuditEntry.objects.filter(verb="opportunity.stage_changed", target_id=str(opp.pk),
                                              payload__to="negotiation").first()
            rejected = AuditEntry.objects.get(verb="evidence.rejected", target_id=str(weak.pk))
            if current.stage.code == "negotiation":
                assert moved is not None and moved.seq < rejected.seq
            else:
                assert moved is None and AuditEntry.objects.filter(verb="gate.refused", target_id=str(opp.pk)).exists()


def test_two_quick_moves_pass_a_gate_once(django_db_setup, committed_tenant):
    schema = committed_tenant.schema_name
    _manager, _admin, rep = _cast(schema)
    with schema_context(schema):
        opp = opportunity_make(owner=rep, credit=15)
        demo = Stage.objects.get(code="solution_demo")

    def move():
        with schema_context(schema):
            return opportunity_stage_change(actor=rep, opportunity=opp,
                                            to_stage=demo, via="web")

    results, failures = _race([move, move, move])
    assert len(results) == 1 and len(failures) == 2
    with schema_context(schema):
        assert AuditEntry.objects.filter(verb="opportunity.stage_changed", target_id=str(opp.pk),
                                         payload__to="solution_demo").count() == 1
        assert audit_chain_verify().intact
