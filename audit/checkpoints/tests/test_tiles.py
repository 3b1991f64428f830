"""The tile arithmetic without a database: tiles filled in memory as `tiles_extend` would store them."""
import hashlib

import pytest

from audit import merkle
from audit.checkpoints.tiles import TILE_WIDTH, TileStore, _inner_rows


def _store(size: int) -> tuple[TileStore, list[bytes]]:
    leaves = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(size)]
    store, level, hashes = TileStore(size), 0, leaves
    while hashes:
        above = []
        for start in range(0, len(hashes), TILE_WIDTH):
            chunk = hashes[start: start + TILE_WIDTH]
            inner = _inner_rows(chunk)
            store._tiles[(level, start // TILE_WIDTH)] = b"".join(chunk)
            store._inner[(level, start // TILE_WIDTH)] = b"".join(b"".join(row) for row in inner)
            if len(chunk) == TILE_WIDTH:
                above.append(merkle.node_hash(*inner[-1]))
        hashes, level = above, level + 1
    return store, leaves


def _reference(leaves):
    return lambda height, index: merkle.perfect_root(leaves[index << height: (index + 1) << height])


@pytest.mark.parametrize("size", [1, 255, 256, 257, 1000, 65536 + 300])
def test_stored_nodes_are_the_subtree_roots(size):
    store, leaves = _store(size)
    reference = _reference(leaves)
    for height in range(0, size.bit_length()):
        count = size >> height
        for index in {0, count // 2, count - 1} - {-1}:
            if count:
                assert store.subtree(height, index) == reference(height, index), (height, index)
    assert store.root() == merkle.root(size, reference)


def test_proofs_from_stored_tiles_verify():
    from audit.verifier import verify_record

    store, leaves = _store(70000)
    root = store.root()
    for index in (0, 255, 256, 65535, 65536, 69999):
        proof = merkle.inclusion_proof(index, 70000, store.subtree)
        assert verify_record.root_from_inclusion(index, 70000, leaves[index], proof) == root


def test_a_tile_without_inner_nodes_is_computed():
    store, leaves = _store(600)
    store._inner.clear()
    assert store.root() == merkle.root(600, _reference(leaves))
