"""Evidence, its review, a prepayment and a refused stage gate, made through the real services,
are in the customer's record (JSON Lines, CSV, PDF) and in no other customer's."""
import datetime as dt
import io
import json
import subprocess
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.export.services import export_build, export_request
from followups.models import Stage
from followups.services import followup_log, opportunity_stage_change
from followups.tests.factories import AccountFactory, opportunity_make
from forecasting.models import Evidence, PrepaymentVia
from forecasting.services.evidence import evidence_review
from forecasting.services.gates import GateRefused
from forecasting.services.prepayment import prepayment_record

REVIEW_REASON = "纪要只有一行字"
REFERENCE = "PAY-20261130-777"


def _history(alpha, account, *, reference):
    opportunity = opportunity_make(owner=alpha.rep, account=account, stage="trial")
    minutes = SimpleUploadedFile("纪要.pdf", b"%PDF-1.4", content_type="application/pdf")
    followup_log(actor=alpha.rep, opportunity=opportunity, kind="meeting", summary="技术交流", files=[minutes])
    evidence = Evidence.objects.filter(opportunity=opportunity).latest("id")
    review = evidence_review(actor=alpha.manager, evidence_id=evidence.pk, action="downgrade", reason=REVIEW_REASON)
    payment = prepayment_record(actor="finance webhook", opportunity_id=opportunity.pk, amount=Decimal("50000.00"),
                                currency="CNY", received_at=timezone.now() - dt.timedelta(hours=1), reference=reference,
                                via=PrepaymentVia.WEBHOOK).prepayment
    with pytest.raises(GateRefused):  # 2 + 8 points of credit, far from negotiation's 25
        opportunity_stage_change(actor=alpha.rep, opportunity=opportunity, to_stage=Stage.objects.get(code="negotiation"),
                                 via="web")
    return opportunity, evidence, review, payment


def _archive(alpha, account) -> dict[str, bytes]:
    export = export_request(actor=alpha.rep, account=account, queue=False, language="en")
    export = export_build(export_id=export.pk)
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _entries(files) -> list[dict]:
    return [json.loads(json.loads(line)["canonical"]) for line in files["records.jsonl"].decode().splitlines()]


def _pdf_text(files) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=files["record.pdf"], capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture
def two_customers(alpha):
    ours, theirs = AccountFactory(owner=alpha.rep), AccountFactory(owner=alpha.rep)
    history = _history(alpha, ours, reference=REFERENCE)
    _history(alpha, theirs, reference="PAY-OTHER-1")
    return ours, theirs, history


def test_evidence_review_prepayment_and_refusal_are_in_the_record(alpha, two_customers):
    ours, _theirs, (opportunity, evidence, review, payment) = two_customers
    files = _archive(alpha, ours)
    entries = _entries(files)
    found = {(e["verb"], e["target_type"], e["target_id"]) for e in entries}
    assert ("evidence.added", "forecasting.evidence", str(evidence.pk)) in found
    assert ("evidence.downgraded", "forecasting.evidence", str(evidence.pk)) in found
    assert ("prepayment.recorded", "forecasting.prepayment", str(payment.pk)) in found
    assert ("evidence.added", "forecasting.evidence", str(payment.evidence_id)) in found  # the prepayment's credit
    assert ("gate.refused", "followups.opportunity", str(opportunity.pk)) in found
    downgraded = next(e for e in entries if e["verb"] == "evidence.downgraded")
    assert downgraded["payload"]["review"] == review.pk and downgraded["reason"] == REVIEW_REASON

    csv_text = files["records.csv"].decode("utf-8-sig")
    for text in ("evidence added", "evidence downgraded", "prepayment recorded", "gate refused", REFERENCE, REVIEW_REASON):
        assert text in csv_text


def test_the_pdf_names_them_too(alpha, two_customers, poppler_utils):
    ours, _theirs, _history_ = two_customers
    text = " ".join(_pdf_text(_archive(alpha, ours)).split())
    for words in ("evidence added", "evidence downgraded", "prepayment recorded", "gate refused", REFERENCE, REVIEW_REASON):
        assert words in text


def test_another_customers_record_holds_none_of_them(alpha, two_customers, poppler_utils):
    ours, theirs, (opportunity, evidence, _review, payment) = two_customers
    files = _archive(alpha, theirs)
    targets = {(e["target_type"], e["target_id"]) for e in _entries(files)}
    assert ("forecasting.evidence", str(evidence.pk)) not in targets
    assert ("forecasting.prepayment", str(payment.pk)) not in targets
    assert ("followups.opportunity", str(opportunity.pk)) not in targets
    assert any(kind == "forecasting.prepayment" for kind, _ in targets)  # its own prepayment is there
    everything = files["records.jsonl"] + files["records.csv"]
    assert REFERENCE.encode() not in everything
    assert REFERENCE not in _pdf_text(files)
