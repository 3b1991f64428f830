from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from salesflow.org.models import Member, Region, Team
from salesflow.org.roster import COLUMNS, roster_import

HEADER = ",".join(COLUMNS)
GOOD = f"""{HEADER}
wang.fang,wang.fang@example.com,王芳,manager,华南区,广州组,,医疗器械,影像设备,9,2019-04-01,20
li.lei,li.lei@example.com,李雷,rep,华南区,广州组,wang.fang,医疗器械;工业零部件,影像设备;液压件,6,2020-07-15,40
han.mei,han.mei@example.com,韩梅梅,rep,华南区,广州组,wang.fang,医疗器械,检验试剂,0,2026-09-01,
"""


def test_it_imports_people_teams_and_managers(alpha):
    result = roster_import(actor=alpha.admin, text=GOOD)
    assert (result.ok, result.created, result.updated) == (True, 3, 0)
    li = Member.objects.select_related("team__manager", "region").get(user__username="li.lei")
    assert li.full_name == "李雷" and li.industries == ["医疗器械", "工业零部件"]
    assert li.team.name == "广州组" and li.team.manager.username == "wang.fang" and li.region.name == "华南区"
    assert Member.objects.get(user__username="han.mei").capacity == 50
    assert AuditEntry.objects.filter(verb="roster.imported").exists()


def test_reimporting_updates_instead_of_duplicating(alpha):
    roster_import(actor=alpha.admin, text=GOOD)
    changed = GOOD.replace("李雷,rep,华南区,广州组,wang.fang,医疗器械;工业零部件,影像设备;液压件,6", "李雷,rep,华南区,广州组,wang.fang,医疗器械,影像设备,7")
    result = roster_import(actor=alpha.admin, text=changed)
    assert (result.created, result.updated) == (0, 3)
    assert get_user_model().objects.filter(username="li.lei").count() == 1
    assert Member.objects.get(user__username="li.lei").years_experience == 7


def test_every_bad_row_is_reported_and_nothing_is_imported(alpha):
    bad = f"""{HEADER}
ok.person,ok@example.com,好人,rep,华南区,广州组,,,,1,2024-01-01,10
bad.role,bad@example.com,坏角色,boss,华南区,广州组,,,,1,2024-01-01,10
bad.mail,not-an-email,坏邮箱,rep,华南区,广州组,,,,x,2024-13-01,10
lonely,lonely@example.com,孤独,rep,华南区,广州组,nobody,,,1,,10
"""
    result = roster_import(actor=alpha.admin, text=bad)
    assert not result.ok
    text = "\n".join(result.errors)
    assert "line 3: role 'boss'" in text
    assert "line 4: email 'not-an-email'" in text and "line 4: years_experience 'x'" in text and "line 4: hire_date" in text
    assert not get_user_model().objects.filter(username="ok.person").exists()
    assert not Region.objects.filter(name="华南区").exists() and not Team.objects.filter(name="广州组").exists()


def test_an_unknown_manager_is_reported_with_its_line(alpha):
    result = roster_import(actor=alpha.admin, text=f"{HEADER}\nlonely,lonely@example.com,孤独,rep,华南区,广州组,nobody,,,1,,10\n")
    assert result.errors == ["line 2: manager_username 'nobody' is neither in the file nor an existing user"]


def test_a_missing_column_is_named(alpha):
    result = roster_import(actor=alpha.admin, text="username,email\nx,x@example.com\n")
    assert "header lacks column(s) full_name" in result.errors[0]


def test_the_command_imports_and_fails_loudly(alpha, tmp_path: Path, capsys):
    good = tmp_path / "roster.csv"
    good.write_text(GOOD, encoding="utf-8")
    call_command("import_roster", str(good), schema="alpha")
    assert "created=3 updated=0" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nx,x@example.com,X,chief,,,,,,,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: role 'chief'"):
        call_command("import_roster", str(bad), schema="alpha")


def test_the_admin_upload_reports_bad_rows(alpha, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(alpha, alpha.admin)
    upload = SimpleUploadedFile("roster.csv", f"{HEADER}\nx,x@example.com,X,chief,,,,,,,,\n".encode())
    response = client.post("/admin/org/member/import/", {"file": upload})
    assert response.status_code == 400
    assert "line 2: role &#x27;chief&#x27;" in response.content.decode()
    ok = SimpleUploadedFile("roster.csv", GOOD.encode())
    assert client.post("/admin/org/member/import/", {"file": ok}).status_code == 302
    assert Member.objects.filter(user__username="han.mei").exists()


def test_a_rep_cannot_reach_the_roster_upload(alpha, client_for):
    response = client_for(alpha, alpha.rep).get("/admin/org/member/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
