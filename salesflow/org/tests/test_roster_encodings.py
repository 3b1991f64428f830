import codecs
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from salesflow.org.models import Member, Region, VocabularyEntry
from salesflow.org.vocabularies import vocabulary_resolve

HEADER = "username,email,full_name,role,region,team,manager_username,industries,product_lines,years_experience,hire_date,capacity"
ROWS = [
    "zhangwei,zhangwei@example.cn,张伟,manager,华东,杭州二组,,,,8,2019-03-01,10",
    "lina,lina@example.cn,李娜,rep,华东,杭州二组,zhangwei,医疗;矿业,影像;探矿设备,3,2023-05-01,30",
    "wangfang,wangfang@example.cn,王芳,rep,华中区,武汉组,zhangwei,快消分销,饮料,1,2025-01-10,20",
]


def _roster(separator=","):
    return "\r\n".join([HEADER.replace(",", separator), *(r.replace(",", separator) for r in ROWS)]) + "\r\n"


@pytest.mark.parametrize("raw, encoding", [
    (_roster().encode("gbk"), "GBK"),
    (codecs.BOM_UTF16_LE + _roster("\t").encode("utf-16-le"), "UTF-16LE (BOM)"),
    (codecs.BOM_UTF8 + _roster().encode("utf-8"), "UTF-8 (BOM)"),
])
def test_the_roster_command_reads_excel_encodings_and_keeps_the_chinese(alpha, tmp_path, raw, encoding):
    path = tmp_path / "roster.csv"
    path.write_bytes(raw)
    out = io.StringIO()
    call_command("import_roster", "--schema", "alpha", str(path), stdout=out)
    assert f"encoding: {encoding}" in out.getvalue() and "created=3" in out.getvalue()
    lina = Member.objects.select_related("region", "team").get(user__username="lina")
    assert lina.full_name == "李娜" and lina.team.name == "杭州二组"


def test_roster_values_are_canonical_and_new_ones_join_the_lists(alpha, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(_roster().encode("gbk"))
    call_command("import_roster", "--schema", "alpha", str(path), stdout=io.StringIO())
    lina = Member.objects.select_related("region").get(user__username="lina")
    assert lina.region.name == "华东区" and not Region.objects.filter(name="华东").exists()
    assert lina.industries == ["医疗器械", "矿业"] and lina.product_lines == ["影像设备", "探矿设备"]
    assert vocabulary_resolve("industry", "矿业") == "矿业" and vocabulary_resolve("product_line", "探矿设备") == "探矿设备"
    assert VocabularyEntry.objects.filter(kind="region", code="华中区").count() == 1  # a default already


def test_a_roster_no_encoding_reads_cleanly_is_refused(alpha, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes((HEADER + "\nzoe,zoe@example.fr,Zoé Société,rep,,,,,,,,\n").encode("latin-1"))
    with pytest.raises(CommandError, match="GBK/GB18030"):
        call_command("import_roster", "--schema", "alpha", str(path))
    assert not Member.objects.filter(user__username="zoe").exists()


def test_the_roster_admin_upload_says_which_encoding_it_read(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    upload = SimpleUploadedFile("roster.csv", _roster().encode("gbk"), content_type="text/csv")
    client.cookies["django_language"] = "en"
    response = client.post("/admin/org/member/import/", {"file": upload}, follow=True)
    assert "read as GBK" in response.content.decode()
    assert Member.objects.get(user__username="wangfang").full_name == "王芳"
