import base64

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from audit import merkle
from audit.checkpoints.keys import SigningKeyUnreadable, _unseal, verifier_key
from audit.checkpoints.models import Checkpoint
from audit.checkpoints.services import checkpoint_create
from audit.checkpoints.tiles import TileStore
from audit.models import AuditEntry
from audit.verifier import verify_record
from salesflow.tenancy.models import TenantAuditKey

from .conftest import as_owner, record_many, rewrite_and_rehash_from


def _naive_root(size=None):
    hashes = AuditEntry.objects.order_by("seq").values_list("entry_hash", flat=True)
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes[:size] if True]
    tree = merkle.CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()


def _verify_audit(schema="alpha"):
    try:
        call_command("verify_audit", schema=schema)
    except SystemExit as exit_info:
        return exit_info.code
    return 0


def test_a_checkpoint_is_a_signed_note_of_the_whole_tree(alpha):
    record_many(alpha.admin, 5)
    checkpoint = checkpoint_create(reason="manual")
    size = AuditEntry.objects.count()
    assert checkpoint.tree_size == size
    assert checkpoint.root_hash == _naive_root().hex()
    origin, tree_size, root = verify_record.checkpoint_open(checkpoint.note, str(verifier_key()))
    assert (origin, tree_size, root.hex()) == ("alpha.localhost", size, checkpoint.root_hash)
    body = checkpoint.note.split("\n\n")[0]
    assert body == f"alpha.localhost\n{size}\n{base64.b64encode(root).decode()}"
    assert checkpoint.note.split("\n\n")[1].startswith("\u2014 alpha.localhost ")


def test_checkpoints_extend_incrementally_across_tiles_and_prove_consistency(alpha):
    first = checkpoint_create(reason="manual")
    record_many(alpha.admin, 300)  # crosses a 256-leaf tile
    second = checkpoint_create(reason="manual")
    assert second.tree_size == first.tree_size + 300
    assert second.root_hash == _naive_root().hex()
    proof = [bytes.fromhex(h) for h in second.consistency_proof.split()]
    assert verify_record.consistency_holds(first.tree_size, second.tree_size, bytes.fromhex(first.root_hash),
                                           bytes.fromhex(second.root_hash), proof)
    store = TileStore(second.tree_size)
    assert store.root().hex() == second.root_hash
    entry = AuditEntry.objects.get(seq=7)
    path = merkle.inclusion_proof(6, second.tree_size, store.subtree)
    leaf = merkle.leaf_hash(bytes.fromhex(entry.entry_hash))
    assert verify_record.root_from_inclusion(6, second.tree_size, leaf, path).hex() == second.root_hash


def test_nothing_new_means_no_new_checkpoint(alpha):
    first = checkpoint_create(reason="manual")
    assert checkpoint_create(reason="hourly").pk == first.pk


def test_tiles_that_disagree_are_rebuilt(alpha):
    record_many(alpha.admin, 3)
    checkpoint_create(reason="manual")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_merkletile SET hashes = %s WHERE level = 0", [b"\x00" * 32])
    record_many(alpha.admin, 2)
    assert checkpoint_create(reason="manual").root_hash == _naive_root().hex()


def test_verify_audit_reports_checkpoints_when_all_holds(alpha, capsys):
    record_many(alpha.admin, 3)
    checkpoint_create(reason="manual")
    record_many(alpha.admin, 2)
    checkpoint_create(reason="manual")
    assert _verify_audit() == 0
    out = capsys.readouterr().out
    assert "2 signed checkpoints consistent" in out and f"{AuditEntry.objects.count()} entries" in out.splitlines()[-1]


def test_a_rewritten_and_rehashed_tail_is_caught(alpha, capsys):
    entries = record_many(alpha.admin, 6)
    checkpoint = checkpoint_create(reason="manual")
    rewrite_and_rehash_from(entries[2].seq)
    from audit.selectors import audit_chain_verify

    assert audit_chain_verify().intact  # the chain alone cannot tell
    assert _verify_audit() == 1
    err = capsys.readouterr().err
    assert f"checkpoint at tree size {checkpoint.tree_size}" in err and "not consistent with the current tree" in err


def test_a_cut_tail_is_caught_and_named(alpha, capsys):
    record_many(alpha.admin, 4)
    checkpoint = checkpoint_create(reason="manual")
    size = checkpoint.tree_size
    # The owner deletes the last two entries and rewinds the head: the chain itself looks whole.
    as_owner([
        ("DELETE FROM audit_auditentry WHERE seq > %s", [size - 2]),
        ("UPDATE audit_auditchainhead SET seq = %s, entry_hash = (SELECT entry_hash FROM audit_auditentry WHERE seq = %s)",
         [size - 2, size - 2]),
    ])
    assert _verify_audit() == 1
    err = capsys.readouterr().err
    assert f"entries #{size - 1}..#{size} are missing" in err
    assert f"checkpoint at tree size {size}" in err


def test_a_cut_tail_behind_the_head_is_caught(alpha, capsys):
    record_many(alpha.admin, 3)
    head = AuditEntry.objects.count()
    as_owner([("DELETE FROM audit_auditentry WHERE seq = %s", [head])])
    assert _verify_audit() == 1
    assert f"entries #{head}..#{head} are missing (the chain head records {head} entries" in capsys.readouterr().err


def test_a_changed_checkpoint_signature_is_caught(alpha, capsys):
    record_many(alpha.admin, 2)
    checkpoint = checkpoint_create(reason="manual")
    body, signature = checkpoint.note.split("\n\n")
    name, encoded = signature[2:].split()
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    forged = f"{body}\n\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    as_owner([("UPDATE audit_checkpoint SET note = %s WHERE id = %s", [forged, checkpoint.pk])])
    assert _verify_audit() == 1
    assert "signature of checkpoint.txt does not verify" in capsys.readouterr().err


def test_a_checkpoint_from_another_tenant_is_caught(alpha, beta, capsys):
    with schema_context("beta"):
        record_many(beta.admin, 2)
        foreign = checkpoint_create(reason="manual")
    record_many(alpha.admin, 2)
    checkpoint_create(reason="manual")
    as_owner([(
        "INSERT INTO audit_checkpoint (tree_size, root_hash, origin, note, consistency_proof, reason, created_at) "
        "VALUES (%s, %s, %s, %s, '', 'manual', now())",
        [foreign.tree_size + 100000, foreign.root_hash, foreign.origin, foreign.note],
    )])
    assert _verify_audit() == 1
    assert "no signature by key alpha.localhost" in capsys.readouterr().err


def test_checkpoints_are_append_only(alpha):
    record_many(alpha.admin, 1)
    checkpoint = checkpoint_create(reason="manual")
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.filter(pk=checkpoint.pk).update(root_hash="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.filter(pk=checkpoint.pk).delete()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_auditchainhead SET seq = seq - 1",
    "UPDATE audit_auditchainhead SET seq = seq + 1, entry_hash = repeat('a', 64)",
    "UPDATE audit_auditchainhead SET entry_hash = repeat('b', 64)",
    "DELETE FROM audit_auditchainhead",
    "INSERT INTO audit_auditchainhead (id, seq, entry_hash) VALUES (2, 0, repeat('0', 64))",
])
def test_the_chain_head_moves_only_by_an_append(alpha, statement):
    record_many(alpha.admin, 1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    record_many(alpha.admin, 1)  # the append itself still moves it


def test_the_private_key_lives_sealed_in_the_public_schema(alpha):
    record_many(alpha.admin, 1)
    checkpoint_create(reason="manual")
    row = TenantAuditKey.objects.get(tenant=alpha.tenant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('alpha.tenancy_tenantauditkey'), to_regclass('public.tenancy_tenantauditkey')")
        in_tenant, in_public = cursor.fetchone()
    assert in_tenant is None and in_public is not None
    raw = _unseal(bytes(row.private_key_sealed), "alpha")
    assert raw not in bytes(row.private_key_sealed)
    with pytest.raises(SigningKeyUnreadable):
        _unseal(bytes(row.private_key_sealed), "beta")


def test_the_well_known_key_is_served_as_text(alpha, alpha_client):
    response = alpha_client.get("/.well-known/salesflow-audit-key")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode().strip()
    assert text == str(verifier_key())
    name, key_hash, public = verify_record.parse_vkey(text)
    assert name == "alpha.localhost" and len(public) == 32
