"""Signed checkpoints and the customer interaction record at scale.

    make bench BENCH_ARGS="--only checkpoint [--size 1000000] [--customer-entries 2000] [--runs 3] [--keep]"

A chain of --size entries is COPY'd in (bench_foundation.grow_chain); every size/customer-entries-th
of them is a follow-up logged on one customer, so that customer's entries are spread over the
whole tree as in life. Then:

scratch      the first checkpoint over the whole chain: every leaf hashed, every tile written,
             signed (tiles and checkpoints removed between runs as the table owner).
incremental  100 entries appended through `audit_record`, then a checkpoint (20 runs).
proofs       inclusion proofs for the customer's entries, tiles read in one go, per entry.
csv          selecting the customer's entries, their proofs, records.jsonl and records.csv.
pdf          record.pdf of those entries (WeasyPrint), in a child process for its peak RSS.
export       `manage.py export_interactions` end to end (subprocess; wall time and peak RSS).
verifier     `python verify_record.py FILE.zip` over that export (subprocess).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection, transaction
from django_tenants.utils import schema_context

from bench.bench_foundation import grow_chain
from bench.support import bench_tenant, median, percentile, record, tenant_drop

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"scratch": 5.0, "incremental": 0.050, "proof": 0.001, "csv": 1.0, "pdf": 10.0, "verifier": 2.0}
SUMMARIES = ["拜访信息科主任，确认预算与招标时间表。", "电话沟通采购流程，约下周现场演示。",
             "技术交流：演示系统接口，记录对方的性能要求。", "发送报价与资质文件，等待评审反馈。"]


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench_checkpoint")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--customer-entries", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    options, _ = parser.parse_known_args(argv)
    return options


def _customer(schema: str):
    from django.contrib.auth import get_user_model

    from followups.models import ContactRole, Stage
    from followups.services import account_create, contact_create, opportunity_create

    with schema_context(schema):
        owner = get_user_model().objects.filter(is_superuser=True).first()
        account = account_create(actor=owner, name="上海市第一人民医院", owner=owner, industry="医疗器械")
        people = [contact_create(actor=owner, account=account, name=name, role=role, is_key_person=True)
                  for name, role in (("王建国", ContactRole.CIO), ("李淑芬", ContactRole.PURCHASING))]
        opportunity = opportunity_create(actor=owner, account=account, name="影像系统", owner=owner, amount=1_000_000,
                                         stage=Stage.objects.order_by("position").first())
        return account, [p.pk for p in people], opportunity.pk, owner


def _build(schema: str, options) -> tuple:
    account, contacts, opportunity_id, owner = _customer(schema)
    every = max(1, options.size // options.customer_entries)

    def custom(seq, rng):
        if seq % every:
            return None
        return {"verb": "followup.logged", "target_type": "followups.account", "target_id": str(account.pk),
                "actor_id": owner.pk, "actor": owner.username,
                "payload": {"opportunity": opportunity_id, "kind": rng.choice(["call", "visit", "wechat"]),
                            "summary": rng.choice(SUMMARIES), "contacts": rng.sample(contacts, rng.randint(1, 2))}}

    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        have = cursor.fetchone()[0]
    seconds = grow_chain(schema, options.size - have, seed=7, custom=custom)
    print(f"checkpoint: built entries {have + 1}..{options.size} by COPY in {seconds:.1f}s "
          f"({options.size // every} on the customer)")
    return account


def _forget_tree(schema: str) -> None:
    with schema_context(schema), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_checkpoint")
        cursor.execute("DELETE FROM audit_merkletile")


def _line(name: str, samples: list[float], target: float, unit: str = "s", scale: float = 1.0) -> None:
    med, p95 = median(samples), percentile(samples, 0.95)
    record(f"{name}_seconds", [round(s, 5) for s in samples])
    record(f"{name}_median_s", round(med, 5))
    record(f"{name}_p95_s", round(p95, 5))
    print(f"{name:<12} median {med * scale:8.2f}{unit}  p95 {p95 * scale:8.2f}{unit}  (n={len(samples)}; target "
          f"< {target * scale:g}{unit}: {'met' if p95 < target else 'MISSED'})")


def bench_scratch(schema: str, options) -> None:
    from audit.checkpoints.services import checkpoint_create

    samples = []
    for _ in range(options.runs):
        _forget_tree(schema)
        with schema_context(schema):
            started = time.perf_counter()
            checkpoint = checkpoint_create(reason="bench")
            samples.append(time.perf_counter() - started)
    print(f"  tree size {checkpoint.tree_size}, root {checkpoint.root_hash}")
    _line("scratch", samples, TARGETS["scratch"])


def bench_incremental(schema: str) -> None:
    from audit.checkpoints.services import checkpoint_create
    from audit.services import audit_record

    samples = []
    with schema_context(schema):
        for run in range(20):
            with transaction.atomic():
                for n in range(100):
                    audit_record(actor="bench", verb="bench.appended", payload={"run": run, "n": n})
            started = time.perf_counter()
            checkpoint_create(reason="bench")
            samples.append(time.perf_counter() - started)
    _line("incremental", samples, TARGETS["incremental"], "ms", 1000)


def bench_record(schema: str, account) -> None:
    from audit.checkpoints.models import Checkpoint
    from audit.export.archive import inclusion_proofs, records_csv, records_jsonl
    from audit.export.selectors import record_entries
    from audit.export.summary import Describer

    with schema_context(schema):
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        entries = record_entries(account=account, up_to_seq=checkpoint.tree_size)
        proof_runs, csv_runs = [], []
        for _ in range(5):
            started = time.perf_counter()
            inclusion_proofs(entries, checkpoint.tree_size)
            proof_runs.append((time.perf_counter() - started) / len(entries))
            started = time.perf_counter()
            chosen = record_entries(account=account, up_to_seq=checkpoint.tree_size)
            proofs = inclusion_proofs(chosen, checkpoint.tree_size)
            records_jsonl(chosen, proofs)
            records_csv(chosen, Describer(chosen))
            csv_runs.append(time.perf_counter() - started)
    print(f"  customer entries: {len(entries)} spread over a tree of {checkpoint.tree_size}")
    _line("proof", proof_runs, TARGETS["proof"], "ms", 1000)
    _line("csv", csv_runs, TARGETS["csv"])


def _pdf_child(schema: str, account_id: int, write) -> None:
    from audit.checkpoints.keys import verifier_key
    from audit.checkpoints.models import Checkpoint
    from audit.export.models import InteractionExport
    from audit.export.pdf import record_pdfs
    from audit.export.selectors import record_entries
    from audit.export.summary import Describer, record_summary
    from followups.models import Account

    with schema_context(schema):
        account = Account.objects.get(pk=account_id)
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        entries = record_entries(account=account, up_to_seq=checkpoint.tree_size)
        export = InteractionExport(account=account, requested_label="bench", required_touches=10, language="zh-hans")
        started = time.perf_counter()
        describer = Describer(entries)
        summary = record_summary(entries=entries, account=account, since=None, until=None, required=10)
        pdfs = record_pdfs(export=export, checkpoint=checkpoint, entries=entries, describer=describer, summary=summary,
                           vkey=str(verifier_key()), tenant_name="bench")
        write({"seconds": time.perf_counter() - started, "parts": len(pdfs), "bytes": sum(len(d) for _, d in pdfs)})


def bench_pdf(schema: str, account, runs: int) -> None:
    samples, peaks, info = [], [], {}
    for _ in range(runs):
        reader, writer = os.pipe()
        connection.close()  # the child must not share this connection
        pid = os.fork()
        if pid == 0:  # child
            os.close(reader)
            with os.fdopen(writer, "w") as out:
                _pdf_child(schema, account.pk, lambda data: out.write(json.dumps(data)))
            os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as pipe:
            info = json.loads(pipe.read() or "{}")
        _, _, usage = os.wait4(pid, 0)
        samples.append(info["seconds"])
        peaks.append(usage.ru_maxrss / 1024)
    record("pdf_peak_rss_mib", round(max(peaks), 1))
    print(f"  record PDF: {info['parts']} file(s), {info['bytes'] / 1e6:.1f} MB; peak RSS of the rendering process "
          f"{max(peaks):.0f} MiB")
    _line("pdf", samples, TARGETS["pdf"])


def _timed(command: list[str]) -> tuple[float, float, str, int]:
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read().decode().strip(), os.waitstatus_to_exitcode(status)


def bench_export_and_verifier(schema: str, account, runs: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        zip_path = Path(folder) / "record.zip"
        export = _timed([sys.executable, "manage.py", "export_interactions", "--schema", schema, "--account",
                         str(account.pk), "--out", str(zip_path)])
        print(f"export       {export[0]:8.2f}s end to end, peak RSS {export[1]:.0f} MiB: {export[2].splitlines()[-1]}")
        record("export_seconds", round(export[0], 2))
        record("export_peak_rss_mib", round(export[1], 1))
        record("export_zip_bytes", zip_path.stat().st_size)
        verifier = [_timed([sys.executable, "verify_record.py", str(zip_path)]) for _ in range(runs)]
        print(f"  verifier: {verifier[-1][2].splitlines()[-1]}; peak RSS {max(v[1] for v in verifier):.0f} MiB")
        _line("verifier", [v[0] for v in verifier], TARGETS["verifier"])
        return export[3] == 0 and all(v[3] == 0 for v in verifier)


def main(argv) -> int:
    options = _parse(argv)
    record("options", vars(options))
    tenant = bench_tenant("bench_checkpoint")
    schema = tenant.schema_name
    try:
        account = _build(schema, options)
        bench_scratch(schema, options)
        bench_incremental(schema)
        bench_record(schema, account)
        bench_pdf(schema, account, options.runs)
        good = bench_export_and_verifier(schema, account, options.runs)
        return 0 if good else 1
    finally:
        if not options.keep:
            tenant_drop(tenant)
