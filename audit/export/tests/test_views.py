import io
import json
import random
import subprocess
import zipfile

import pytest

from audit.export.demo import DEMO_ACCOUNT, seed_interaction_history
from audit.export.models import InteractionExport
from audit.export.services import export_build
from audit.models import AuditEntry
from followups.models import Account
from followups.tests.factories import opportunity_make


@pytest.fixture
def customer(alpha):
    seed_interaction_history(rng=random.Random(1), options={})
    return Account.objects.get(name=DEMO_ACCOUNT)


def _panel(account):
    return f"/followups/accounts/{account.pk}/record/"


@pytest.mark.parametrize("who", ["rep", "manager", "director", "admin"])
def test_owner_their_managers_and_admins_see_the_export_button(alpha, client_for, customer, who):
    page = client_for(alpha, getattr(alpha, who)).get(f"/followups/accounts/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert _panel(customer) in page.content.decode()


@pytest.mark.parametrize("who", ["other_rep", "other_manager"])
def test_people_outside_the_owners_line_get_404_and_nothing_is_queued(alpha, client_for, customer, who):
    client = client_for(alpha, getattr(alpha, who))
    assert client.post(_panel(customer), {"required_touches": 10}).status_code == 404
    assert client.get(_panel(customer)).status_code == 404
    assert not InteractionExport.objects.exists()


def test_a_rep_who_only_holds_a_deal_there_sees_the_account_but_may_not_export_it(alpha, client_for, customer):
    opportunity_make(owner=alpha.other_rep, account=customer)
    client = client_for(alpha, alpha.other_rep)
    page = client.get(f"/followups/accounts/{customer.pk}/")
    assert page.status_code == 200 and _panel(customer) not in page.content.decode()
    assert client.post(_panel(customer), {"required_touches": 10}).status_code == 403
    assert not InteractionExport.objects.exists()


def test_the_other_tenant_cannot_reach_it(alpha, beta, client_for, customer):
    assert client_for(beta, beta.admin).get(_panel(customer)).status_code == 404


def test_asking_for_a_record_is_audited_and_the_download_too(alpha, client_for, customer):
    client = client_for(alpha, alpha.manager)
    response = client.post(_panel(customer), {"since": "2020-01-01", "required_touches": "10"}, HTTP_HX_REQUEST="true",
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    export = InteractionExport.objects.get()
    assert export.status == InteractionExport.Status.QUEUED and "hx-trigger=\"every 3s\"" in response.content.decode()
    asked = AuditEntry.objects.filter(verb="interaction_record.exported").latest("seq")
    assert (asked.actor_id, asked.target_id, asked.payload["export"]) == (alpha.manager.pk, str(customer.pk), export.pk)

    export_build(export_id=export.pk)
    panel = client.get(_panel(customer), HTTP_HX_REQUEST="true").content.decode()
    download_url = f"/followups/accounts/{customer.pk}/record/{export.pk}/download/"
    assert download_url in panel and "every 3s" not in panel
    download = client.get(download_url)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(download.content)).testzip() is None
    fetched = AuditEntry.objects.filter(verb="interaction_record.downloaded").latest("seq")
    assert (fetched.actor_id, fetched.target_id) == (alpha.manager.pk, str(customer.pk))
    assert client_for(alpha, alpha.other_manager).get(download_url).status_code == 404


def test_bad_input_is_answered_with_the_field_and_nothing_is_queued(alpha, client_for, customer):
    client = client_for(alpha, alpha.rep)
    response = client.post(_panel(customer), {"since": "2026-05-01", "until": "2026-01-01", "required_touches": "0"},
                           HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.content.decode()
    assert "comes before its start" in body and "greater than or equal to 1" in body
    assert not InteractionExport.objects.exists()


def test_the_pdf_renders_chinese_with_the_shipped_font(alpha, customer, tmp_path, poppler_utils):
    from audit.export.services import export_request

    export = export_request(actor=alpha.rep, account=customer, queue=False, language="zh-hans", required_touches=10)
    export = export_build(export_id=export.pk)
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(zipfile.ZipFile(io.BytesIO(bytes(export.archive))).read("record.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "客户互动记录" in text and DEMO_ACCOUNT in text and "王建国" in text and "信息科" in text
    assert "已达到" in text or "met" not in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "SalesFlow-Noto-Sans-SC" in fonts  # the shipped face, embedded, not a system fallback


def _pages(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def test_a_record_over_the_page_cap_is_split_and_says_so(alpha, customer, settings, poppler_utils):
    from audit.export.services import export_request

    from audit.checkpoints.tests.conftest import record_many

    record_many(alpha.rep, 90, target=customer, reason="客户来电确认参数与交付周期，需要补充维保条款和培训安排。" * 2)
    settings.SALESFLOW_RECORD_PDF_PAGE_CAP = 4
    export = export_request(actor=alpha.rep, account=customer, queue=False, language="en")
    export = export_build(export_id=export.pk)
    archive = zipfile.ZipFile(io.BytesIO(bytes(export.archive)))
    parts = [n for n in archive.namelist() if n.startswith("record") and n.endswith(".pdf")]
    assert len(parts) >= 2
    assert parts == ["record.pdf"] + [f"record-part-{n}.pdf" for n in range(2, len(parts) + 1)]
    seen = []
    for number, name in enumerate(parts, start=1):
        pdf = archive.read(name)
        assert _pages(pdf) <= 4  # counted in the PDF written, not estimated
        text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
                        .stdout.decode().split())
        assert f"split into {len(parts)} PDF files of at most 4 pages each; this is part {number}" in text
        assert f"All parts: record.pdf to {parts[-1]}." in text
        if number < len(parts):
            assert f"The record continues in {parts[number]}" in text
        else:
            assert "The record continues" not in text
        seen.append(text)
    hashes = [json.loads(line)["entry_hash"][:16] for line in archive.read("records.jsonl").decode().splitlines()]
    where = [[n for n, text in enumerate(seen) if f"{h}…" in text] for h in hashes]
    assert all(len(found) == 1 for found in where)  # every entry in exactly one part…
    assert [found[0] for found in where] == sorted(found[0] for found in where)  # …and the parts in chain order


def test_parts_are_cut_by_the_pages_laid_out():
    """A fake layout: 1 page of overhead plus each entry's height; tall entries fill pages sooner."""
    import math

    from audit.export.pdf import split_by_pages

    heights = [0.05] * 150 + [0.6] * 20 + [0.05] * 100 + [7.0] + [0.05] * 30
    entries = list(range(len(heights)))
    calls = []

    def pages_of(number, part):
        calls.append(len(part))
        return 1 + math.ceil(sum(heights[i] for i in part))

    parts = split_by_pages(entries, 5, pages_of)
    assert [e for part in parts for e in part] == entries
    for part in parts:
        assert 1 + math.ceil(sum(heights[i] for i in part)) <= 5 or part == [270]  # only the 7-page entry alone
    assert [270] in parts
    assert len(parts) <= 12 and len(calls) < 60
    assert split_by_pages([], 5, pages_of) == [[]]


def test_the_admin_shows_the_verifier_key(alpha, client_for):
    from audit.checkpoints.keys import verifier_key

    page = client_for(alpha, alpha.admin).get("/admin/audit/checkpoint/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and str(verifier_key()) in page.content.decode()
