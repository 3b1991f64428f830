"""Lead CSVs as Excel on Chinese Windows saves them: GBK, UTF-16 "Unicode text", UTF-8 with BOM."""
import codecs
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from leads.messages import import_error_text
from leads.models import ImportJob, Lead
from salesflow.csvtext import CsvEncodingError, csv_decode

FIXTURES = Path(__file__).parent / "fixtures"
CASES = [("leads_gbk.csv", "GBK"), ("leads_utf16.txt", "UTF-16LE (BOM)"), ("leads_utf8_bom.csv", "UTF-8 (BOM)")]


@pytest.mark.parametrize("name, encoding", CASES)
def test_the_encoding_is_detected_and_the_chinese_survives_intact(name, encoding):
    decoded = csv_decode((FIXTURES / name).read_bytes())
    assert decoded.encoding == encoding
    rows = list(decoded.reader())
    assert rows[0][:3] == ["公司", "联系人", "电话"]
    assert rows[1][0] == "杭州市第一人民医院" and rows[1][-1] == "展会扫码，想了解CT报价"


@pytest.mark.parametrize("text, codec, expected", [
    ("公司,联系人\n华东,王\n", "utf-8", "UTF-8"),
    ("公司,联系人\n华东,王\n", "gb18030", "GBK"),
    ("公司,联系人\n𠀀,王\n", "gb18030", "GB18030"),  # a character beyond GBK
    ("公司\t联系人\n华东\t王\n", "utf-16", "UTF-16LE (BOM)"),
])
def test_each_supported_encoding_is_named(text, codec, expected):
    raw = codecs.BOM_UTF16_BE + text.encode("utf-16-be") if expected == "UTF-16BE (BOM)" else text.encode(codec)
    decoded = csv_decode(raw)
    assert decoded.encoding == expected and decoded.text == text


def test_utf16_big_endian_with_a_bom_is_read():
    decoded = csv_decode(codecs.BOM_UTF16_BE + "公司\t联系人\r\n甲\t乙\r\n".encode("utf-16-be"))
    assert decoded.encoding == "UTF-16BE (BOM)" and decoded.delimiter == "\t" and list(decoded.reader())[1] == ["甲", "乙"]


@pytest.mark.parametrize("codec, expected", [("utf-16-le", "UTF-16LE (no BOM)"), ("utf-16-be", "UTF-16BE (no BOM)")])
def test_utf16_that_lost_its_bom_is_recognised_by_where_its_nuls_fall_and_named(codec, expected):
    fixture = (FIXTURES / "leads_utf16.txt").read_bytes()
    text = fixture[len(codecs.BOM_UTF16_LE):].decode("utf-16-le")
    decoded = csv_decode(text.encode(codec))
    assert decoded.encoding == expected and decoded.delimiter == "\t"
    rows = list(decoded.reader())
    assert rows[0][:3] == ["公司", "联系人", "电话"] and rows[1][0] == "杭州市第一人民医院"


def test_the_import_command_names_utf16_without_a_bom(alpha, tmp_path):
    path = tmp_path / "leads.txt"
    path.write_bytes((FIXTURES / "leads_utf16.txt").read_bytes()[len(codecs.BOM_UTF16_LE):])
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_leads", "--schema", "alpha", str(path), stdout=out, stderr=io.StringIO())
    assert "encoding: UTF-16LE (no BOM)" in out.getvalue()
    assert Lead.objects.get(company="杭州市第一人民医院").contact_name == "王建华"


@pytest.mark.parametrize("raw", [
    "Société Générale,Zoé\n".encode("latin-1"),  # Western Windows: no candidate reads it cleanly
    bytes(range(256)),
    b"\x00\x00\x00" + "公司,联系人\n".encode("utf-16-le"),  # NULs on both sides: not text in any of them
    "公司,联系人\n\ud800".encode("utf-16-le", "surrogatepass"),  # UTF-16 without a BOM, but broken
])
def test_a_file_no_encoding_reads_cleanly_is_refused_rather_than_imported_as_mojibake(raw):
    with translation.override("en"), pytest.raises(CsvEncodingError, match="UTF-8, GBK/GB18030 or UTF-16"):
        csv_decode(raw)


@pytest.mark.parametrize("name, encoding", CASES)
def test_the_import_command_names_the_encoding_and_keeps_the_chinese(alpha, name, encoding):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_leads", "--schema", "alpha", str(FIXTURES / name), stdout=out, stderr=err)
    assert f"encoding: {encoding}" in out.getvalue()
    assert out.getvalue().strip().endswith("rows=5 created=3 duplicates=0 bad=2")
    hangzhou = Lead.objects.get(company="杭州市第一人民医院")
    assert (hangzhou.contact_name, hangzhou.region, hangzhou.tier, hangzhou.channel, hangzhou.note) == (
        "王建华", "华东区", "tertiary_hospital", "exhibition", "展会扫码，想了解CT报价")
    assert Lead.objects.get(contact_name="陈晓燕").channel == "web_form"
    assert Lead.objects.get(contact_name="刘德明").industry == "医疗器械"
    job = ImportJob.objects.get()
    assert job.encoding == encoding
    with translation.override("en"):
        errors = {e["line"]: import_error_text(e) for e in job.errors}
    assert "火星区" in errors[5] and "allowed: 华东区, 华北区" in errors[5] and "星际贸易" in errors[5]
    assert "phone" in errors[6] and not Lead.objects.filter(contact_name="钱空白").exists()


def test_the_import_command_refuses_a_file_it_cannot_decode(alpha, tmp_path):
    path = tmp_path / "western.csv"
    path.write_bytes("company,contact_name,phone\nSociété,Zoé,13800000000\n".encode("latin-1"))
    with pytest.raises(CommandError, match="GBK/GB18030"):
        call_command("import_leads", "--schema", "alpha", str(path))
    assert not Lead.objects.exists()


def test_an_admin_upload_in_gbk_shows_its_encoding_and_chinese_preview(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    upload = SimpleUploadedFile("客户.csv", (FIXTURES / "leads_gbk.csv").read_bytes(), content_type="text/csv")
    response = client.post("/admin/leads/importjob/add/", {"file": upload})
    page = client.get(response["Location"]).content.decode()
    assert "GBK" in page and "杭州市第一人民医院" in page
    assert '<option value="contact_name" selected>联系人姓名</option>' in page  # the mapping in the reader's language
    assert ImportJob.objects.get().encoding == "GBK"


def test_an_admin_upload_that_cannot_be_decoded_is_refused_with_a_clear_message(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    upload = SimpleUploadedFile("x.csv", "company,contact_name\nSociété,Zoé\n".encode("latin-1"), content_type="text/csv")
    client.cookies["django_language"] = "en"
    response = client.post("/admin/leads/importjob/add/", {"file": upload})
    assert response.status_code == 200 and not ImportJob.objects.exists()
    assert "UTF-8, GBK/GB18030 or UTF-16" in response.content.decode()


def test_row_problems_are_stored_as_messages_and_read_in_each_readers_language(alpha):
    call_command("import_leads", "--schema", "alpha", str(FIXTURES / "leads_gbk.csv"), stdout=io.StringIO(),
                 stderr=io.StringIO())
    job = ImportJob.objects.get()
    stored = {e["line"]: e["problems"] for e in job.errors}
    assert stored[6][0]["params"]["problem"]["v"] == {"key": "lead.invalid.contact", "params": {}}
    with translation.override("zh-hans"):
        zh = {e["line"]: import_error_text(e) for e in job.errors}
    with translation.override("en"):
        en = {e["line"]: import_error_text(e) for e in job.errors}
    assert "区域“火星区”不在列表中；可选值：华东区" in zh[5] and "行业“星际贸易”不在列表中" in zh[5]
    assert "region: Region “火星区” is not in the list; allowed: 华东区" in en[5]
    assert "电话或电子邮件" in zh[6] and "phone number or an e-mail" in en[6]


def test_an_import_refused_for_its_encoding_says_why_in_the_readers_language(alpha):
    from django.core.files.base import ContentFile

    from leads.services.imports import import_job_run, import_job_start

    job = ImportJob.objects.create(file=ContentFile("company,contact_name\nSociété,Zoé\n".encode("latin-1"), name="w.csv"))
    import_job_start(actor="test", job=job, mapping={"1": "contact_name"}, queue=False)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED and job.errors == [{"line": 1, "message": {"key": "import.undecodable", "params": {}}}]
    with translation.override("zh-hans"):
        assert "GBK/GB18030" in import_error_text(job.errors[0]) and "无法" in import_error_text(job.errors[0])
