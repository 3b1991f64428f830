import io
import json
import random
import subprocess
import sys
import zipfile

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from audit.checkpoints.tests.conftest import record_many, rewrite_and_rehash_from
from audit.export.demo import DEMO_ACCOUNT, seed_interaction_history
from audit.export.models import InteractionExport
from audit.export.services import export_build, export_request
from audit.models import AuditEntry
from audit.verifier import VERIFIER_PATH
from followups.models import Account


def _customer():
    seed_interaction_history(rng=random.Random(1), options={})
    return Account.objects.get(name=DEMO_ACCOUNT)


def _export(actor, account, **kwargs) -> InteractionExport:
    export = export_request(actor=actor, account=account, queue=False, language="zh-hans", **kwargs)
    return export_build(export_id=export.pk)


def _verify(path, *args):
    """Run the verifier shipped inside the zip, as a committee would, in a fresh interpreter."""
    script = path.parent / f"{path.stem}-verify_record.py"
    with zipfile.ZipFile(path) as archive:
        script.write_bytes(archive.read("verify_record.py"))
    result = subprocess.run([sys.executable, "-I", str(script), str(path), *map(str, args)], capture_output=True,
                            text=True, timeout=60)
    return result.returncode, (result.stdout.strip().splitlines() or result.stderr.strip().splitlines()[-3:])


def _rezip(source: bytes, target, change):
    """Copy the zip with `change(name, data) -> data` applied to each member."""
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, change(name, old.read(name)))


@pytest.fixture
def record(alpha, tmp_path):
    account = _customer()
    export = _export(alpha.rep, account)
    path = tmp_path / "record.zip"
    path.write_bytes(bytes(export.archive))
    return export, path


def test_the_record_holds_every_touch_and_verifies_offline(record, tmp_path):
    export, path = record
    with zipfile.ZipFile(path) as archive:
        assert {"records.jsonl", "records.csv", "record.pdf", "checkpoint.txt", "verify_record.py", "key.txt"} <= set(
            archive.namelist())
        lines = [json.loads(line) for line in archive.read("records.jsonl").decode().splitlines()]
        assert archive.read("verify_record.py") == VERIFIER_PATH.read_bytes()
    verbs = [json.loads(line["canonical"])["verb"] for line in lines]
    assert verbs.count("followup.logged") == 13
    assert {"account.created", "contact.created", "opportunity.created", "opportunity.stage_changed",
            "interaction_record.exported"} <= set(verbs)
    assert export.entries == len(lines)
    summaries = [json.loads(line["canonical"])["payload"].get("summary", "") for line in lines]
    assert any("王主任" in s for s in summaries)  # what was said is sealed, not only that something was
    code, out = _verify(path)
    assert code == 0, out
    assert "using the key inside the zip" in out[0]
    assert out[-1] == f"record verified: {len(lines)} entries, tree size {export.tree_size}, root {_root(path)}"


def _root(path):
    import base64

    with zipfile.ZipFile(path) as archive:
        return base64.b64decode(archive.read("checkpoint.txt").decode().split("\n")[2]).hex()


def test_the_verifier_takes_the_published_key(record, alpha_client):
    _, path = record
    key = alpha_client.get("/.well-known/salesflow-audit-key").content.decode().strip()
    code, out = _verify(path, "--key", key)
    assert code == 0 and out[-1].startswith("record verified:")
    assert not any("inside the zip" in line for line in out)


def test_one_changed_byte_of_an_entry_is_caught(record, tmp_path):
    _, path = record
    tampered = tmp_path / "tampered.zip"

    def change(name, data):
        if name != "records.jsonl":
            return data
        lines = data.decode().splitlines()
        lines[4] = lines[4].replace("拜访", "拜見", 1) if "拜访" in lines[4] else lines[4].replace('\\"n\\"', '\\"m\\"', 1)
        item = json.loads(lines[4])
        item["canonical"] = item["canonical"].replace('"seq":', '"seq": ', 1)  # one byte more
        lines[4] = json.dumps(item, ensure_ascii=False)
        return ("\n".join(lines) + "\n").encode()

    _rezip(path.read_bytes(), tampered, change)
    code, out = _verify(tampered)
    assert code == 1
    assert out[-1].startswith("record NOT verified: entry on line 5") and "hash does not match" in out[-1]


def test_a_rehashed_entry_fails_its_inclusion_proof(record, tmp_path):
    import hashlib

    _, path = record
    tampered = tmp_path / "rehashed.zip"

    def change(name, data):
        if name != "records.jsonl":
            return data
        lines = data.decode().splitlines()
        item = json.loads(lines[2])
        item["canonical"] = item["canonical"].replace('"actor":"', '"actor":"x', 1)
        item["entry_hash"] = hashlib.sha256(item["canonical"].encode()).hexdigest()
        lines[2] = json.dumps(item, ensure_ascii=False)
        return ("\n".join(lines) + "\n").encode()

    _rezip(path.read_bytes(), tampered, change)
    code, out = _verify(tampered)
    assert code == 1 and "entry on line 3" in out[-1] and "inclusion proof does not lead" in out[-1]


def test_a_changed_checkpoint_signature_is_caught(record, tmp_path):
    import base64

    _, path = record
    tampered = tmp_path / "signature.zip"

    def change(name, data):
        if name != "checkpoint.txt":
            return data
        body, signature = data.decode().split("\n\n")
        name_, encoded = signature[2:].split()
        raw = bytearray(base64.b64decode(encoded))
        raw[10] ^= 0x40
        return f"{body}\n\n\u2014 {name_} {base64.b64encode(bytes(raw)).decode()}\n".encode()

    _rezip(path.read_bytes(), tampered, change)
    code, out = _verify(tampered)
    assert code == 1 and out[-1] == "record NOT verified: signature: the signature of checkpoint.txt does not verify " \
                                    "with key alpha.localhost"


def test_a_proof_from_another_tenant_is_caught(record, beta, tmp_path):
    _, path = record
    with schema_context("beta"):
        record_many(beta.admin, 3)
        foreign = _export(beta.admin, _customer())
    with zipfile.ZipFile(io.BytesIO(bytes(foreign.archive))) as archive:
        foreign_line = archive.read("records.jsonl").decode().splitlines()[1]
        foreign_key = archive.read("key.txt").decode().strip()
    mixed = tmp_path / "mixed.zip"

    def change(name, data):
        if name != "records.jsonl":
            return data
        lines = data.decode().splitlines()
        lines[1] = foreign_line
        return ("\n".join(lines) + "\n").encode()

    _rezip(path.read_bytes(), mixed, change)
    code, out = _verify(mixed)
    assert code == 1 and out[-1].startswith("record NOT verified: entry on line 2")
    # And alpha's record checked against beta's published key fails at the signature.
    code, out = _verify(path, "--key", foreign_key)
    assert code == 1 and "no signature by key beta.localhost" in out[-1]


def test_a_rewritten_tail_after_the_export_fails_verify_audit(record, alpha, capsys):
    export, _ = record
    rewrite_and_rehash_from(export.tree_size - 3)
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", schema="alpha")
    assert exit_info.value.code == 1
    assert f"checkpoint at tree size {export.tree_size}" in capsys.readouterr().err


def test_the_period_limits_the_entries(alpha):
    account = _customer()
    everything = _export(alpha.rep, account)
    import datetime as dt

    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert _export(alpha.rep, account, since=tomorrow, until=tomorrow).entries == 0
    assert everything.entries > 20


def test_the_csv_reads_in_excel_and_defuses_formulas(alpha):
    account = _customer()
    from followups.models import Opportunity
    from followups.services import followup_log

    followup_log(actor=alpha.rep, opportunity=Opportunity.objects.get(account=account), kind="call",
                 summary="=HYPERLINK(\"http://evil\")")
    export = _export(alpha.rep, account)
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        text = archive.read("records.csv").decode("utf-8")
    assert text.startswith("\ufeffseq,leaf_index,time,actor,action,target,details,entry_hash")
    assert "王建国" in text
    assert ",=HYPERLINK" not in text and "=HYPERLINK" in text


def test_the_command_writes_the_zip(alpha, tmp_path, capsys):
    account = _customer()
    out = tmp_path / "cmd.zip"
    call_command("export_interactions", schema="alpha", account=account.pk, out=str(out), since="2020-01-01")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    export = InteractionExport.objects.latest("created_at")
    assert line == f"exported {export.entries} entries to {out}"
    assert _verify(out)[0] == 0
    entry = AuditEntry.objects.filter(verb="interaction_record.exported").latest("seq")
    assert entry.actor_label == "export_interactions command" and entry.target_id == str(account.pk)


def test_the_command_refuses_bad_input(alpha, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_interactions", schema="alpha", account=999999, out=str(tmp_path / "x.zip"))
    with pytest.raises(CommandError):
        call_command("export_interactions", schema="nope", account=1, out=str(tmp_path / "x.zip"))
