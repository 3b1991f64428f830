"""The tree arithmetic against RFC 9162's recursive definitions, written out naively here."""
import hashlib

import pytest

from audit import merkle
from audit.verifier import verify_record


def _leaves(n):
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def _mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = merkle.split_point(len(leaves))
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m, leaves):
    if len(leaves) == 1:
        return []
    k = merkle.split_point(len(leaves))
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def _subtree_of(leaves):
    return lambda height, index: _mth(leaves[index << height: (index + 1) << height])


def test_a_known_vector():
    # RFC 6962 test vector: the empty tree, and a one-leaf tree over the empty string.
    assert merkle.root(0, None).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    single = hashlib.sha256(b"\x00").digest()
    assert merkle.root(1, lambda h, i: single) == single


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 31, 64, 100])
def test_root_and_inclusion_proofs_match_the_definition(size):
    leaves = _leaves(size)
    subtree = _subtree_of(leaves)
    assert merkle.root(size, subtree) == _mth(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, subtree)
        assert proof == _path(index, leaves)
        assert verify_record.root_from_inclusion(index, size, leaves[index], proof) == _mth(leaves)


def test_a_proof_for_another_leaf_or_size_fails():
    leaves = _leaves(13)
    proof = merkle.inclusion_proof(4, 13, _subtree_of(leaves))
    assert verify_record.root_from_inclusion(5, 13, leaves[5], proof) != _mth(leaves)
    with pytest.raises(ValueError):
        verify_record.root_from_inclusion(4, 12, leaves[4], proof + [leaves[0]])


@pytest.mark.parametrize("old,new", [(1, 2), (3, 7), (4, 8), (6, 13), (7, 7), (8, 100), (63, 64), (64, 65)])
def test_consistency_proofs_verify_and_catch_a_rewrite(old, new):
    leaves = _leaves(new)
    proof = merkle.consistency_proof(old, new, _subtree_of(leaves))
    assert verify_record.consistency_holds(old, new, _mth(leaves[:old]), _mth(leaves), proof)
    rewritten = list(leaves)
    rewritten[old - 1] = merkle.leaf_hash(b"\xff" * 32)
    assert not verify_record.consistency_holds(old, new, _mth(leaves[:old]), _mth(rewritten), proof)


@pytest.mark.parametrize("size", [1, 2, 5, 8, 255, 256, 257, 1000])
def test_the_compact_range_extends_to_the_same_root(size):
    leaves = _leaves(size)
    tree = merkle.CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    assert tree.root() == _mth(leaves)
    assert merkle.CompactRange.of(size, _subtree_of(leaves)).root() == _mth(leaves)
