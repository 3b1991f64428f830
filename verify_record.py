#!/usr/bin/env python3
"""Check a SalesFlow customer interaction record offline, trusting nothing but the key.

    python verify_record.py FILE.zip [--key VKEY]

Needs Python 3.9+ and the `cryptography` package, nothing else. VKEY is the tenant's
checkpoint verifier key, `<name>+<key hash hex>+<base64 key>` as served at
https://<tenant host>/.well-known/salesflow-audit-key (or a file holding it); without --key
the copy inside the zip (key.txt) is used, which proves only that the record is consistent
with itself.

What it checks, in order, stopping at the first failure (exit 1, naming it):
1. checkpoint.txt is a signed note (C2SP signed-note / tlog-checkpoint format) whose Ed25519
   signature verifies with the key: origin, tree size T and root hash R are the tenant's.
2. Each line of records.jsonl: SHA-256 of its canonical text (UTF-8) is its entry hash, the
   canonical text names the sequence number leaf index + 1, and its RFC 9162 inclusion proof
   leads from leaf hash SHA-256(0x00 ‖ entry hash) to R in a tree of size T.
Exit 0 with `record verified: N entries, tree size T, root <hex>` when all hold.

SalesFlow's own `verify_audit` runs this same file's functions.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile

ALG_ED25519 = 0x01


class RecordInvalid(Exception):
    """The first check that failed, worded for the person running the verifier."""


# --- RFC 9162 Merkle tree verification -------------------------------------------------------

def leaf_hash(entry_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list) -> bytes:
    """The root `proof` yields for `leaf` at `index` in a tree of `size` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("the proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree requires")
    return r


def consistency_holds(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list) -> bool:
    """RFC 9162 §2.1.4.2: does `proof` show the tree of old_size is a prefix of new_size's?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# --- C2SP signed notes and checkpoints --------------------------------------------------------

def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def parse_vkey(vkey: str):
    """(name, 4-byte key hash, 32-byte Ed25519 public key) of a signed-note verifier key."""
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(hash_hex)
    except ValueError as exc:
        raise RecordInvalid(f"the key is not a verifier key of the form <name>+<hash>+<base64 key>: {exc}") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise RecordInvalid("the key is not an Ed25519 verifier key")
    if len(claimed) != 4 or claimed != key_hash(name, raw[1:]):
        raise RecordInvalid("the key's hash does not match its name and key bytes")
    return name, claimed, raw[1:]


def split_note(note: str):
    """(signed text, [(name, signature bytes)]) of a signed note."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise RecordInvalid("checkpoint.txt is not a signed note (no blank line before the signatures)")
    lines = signatures.split("\n")
    if lines[-1] != "":
        raise RecordInvalid("checkpoint.txt does not end with a newline")
    found = []
    for line in lines[:-1]:
        if not line.startswith("\u2014 "):
            raise RecordInvalid(f"checkpoint.txt has a malformed signature line: {line!r}")
        try:
            name, encoded = line[2:].split(" ")
            found.append((name, base64.b64decode(encoded, validate=True)))
        except ValueError:
            raise RecordInvalid(f"checkpoint.txt has a malformed signature line: {line!r}") from None
    return text + "\n", found


def parse_checkpoint(body: str):
    """(origin, tree size, root hash bytes) of a checkpoint body."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise RecordInvalid("checkpoint.txt does not hold origin, tree size and root hash")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise RecordInvalid(f"checkpoint.txt has a malformed tree size {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise RecordInvalid("checkpoint.txt has a malformed root hash")
    return origin, int(size_text), root


def checkpoint_open(note: str, vkey: str):
    """(origin, tree size, root) once the note's signature by `vkey` verifies; RecordInvalid otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, hash4, public_key = parse_vkey(vkey)
    body, signatures = split_note(note)
    candidates = [sig for signer, sig in signatures if signer == name and sig[:4] == hash4]
    if not candidates:
        raise RecordInvalid(f"signature: checkpoint.txt carries no signature by key {name}")
    for sig in candidates:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(sig[4:], body.encode())
            return parse_checkpoint(body)
        except InvalidSignature:
            continue
    raise RecordInvalid(f"signature: the signature of checkpoint.txt does not verify with key {name}")


# --- The record ------------------------------------------------------------------------------

def entry_check(number: int, line: str, tree_size: int, root: bytes) -> None:
    """RecordInvalid naming the entry when line `number` of records.jsonl fails any check."""
    try:
        item = json.loads(line)
        index, canonical, claimed = item["leaf_index"], item["canonical"], item["entry_hash"]
        proof = [bytes.fromhex(h) for h in item["inclusion_proof"]]
        entry_hash = bytes.fromhex(claimed)
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordInvalid(f"entry on line {number} of records.jsonl is malformed ({exc})") from None
    label = f"entry on line {number} (leaf {index})"
    if hashlib.sha256(canonical.encode("utf-8")).digest() != entry_hash:
        raise RecordInvalid(f"{label}: its hash does not match its canonical text")
    try:
        seq = json.loads(canonical)["seq"]
    except (ValueError, KeyError, TypeError):
        seq = None
    if seq != index + 1:
        raise RecordInvalid(f"{label}: its canonical text names sequence {seq}, not {index + 1}")
    try:
        reached = root_from_inclusion(index, tree_size, leaf_hash(entry_hash), proof)
    except ValueError as exc:
        raise RecordInvalid(f"{label}: inclusion proof invalid ({exc})") from None
    if reached != root:
        raise RecordInvalid(f"{label}: inclusion proof does not lead to the checkpoint's root")


def record_verify(path: str, vkey: str | None, say=print) -> tuple[int, int, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise RecordInvalid(f"cannot open {path} as a zip file: {exc}") from None
    with archive:
        names = set(archive.namelist())
        for needed in ("checkpoint.txt", "records.jsonl"):
            if needed not in names:
                raise RecordInvalid(f"{path} holds no {needed}")
        if vkey is None:
            if "key.txt" not in names:
                raise RecordInvalid("no --key given and the zip holds no key.txt")
            vkey = archive.read("key.txt").decode("utf-8").strip()
            say(f"using the key inside the zip (key.txt): {vkey}")
            say("  this only shows the record agrees with itself; compare the key with the one the tenant publishes")
        origin, tree_size, root = checkpoint_open(archive.read("checkpoint.txt").decode("utf-8"), vkey)
        say(f"checkpoint signature verified: origin {origin}, tree size {tree_size}")
        count = 0
        with archive.open("records.jsonl") as lines:
            for number, raw in enumerate(lines, start=1):
                text = raw.decode("utf-8").rstrip("\n")
                if text:
                    entry_check(number, text, tree_size, root)
                    count += 1
    return count, tree_size, root


def _key_argument(value: str) -> str:
    if "+" in value:
        return value
    try:
        with open(value, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"--key is neither a verifier key nor a readable file: {exc}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a SalesFlow customer interaction record offline.")
    parser.add_argument("zip", help="the record, as exported (FILE.zip)")
    parser.add_argument("--key", type=_key_argument, help="the tenant's verifier key, or a file holding it")
    args = parser.parse_args(argv)
    try:
        count, tree_size, root = record_verify(args.zip, args.key)
    except RecordInvalid as failure:
        print(f"record NOT verified: {failure}")
        return 1
    print(f"record verified: {count} entries, tree size {tree_size}, root {root.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
