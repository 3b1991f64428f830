"""The tenant's Merkle tree kept as tiles, so a checkpoint only hashes what was appended.

Level L of the store holds the hashes of the perfect subtrees of height 8·L, in tiles of 256
(`MerkleTile`); level 0 is the leaf hashes. For a tree of size S, level L has S // 256^L
hashes and only its last tile may be partial. Any perfect subtree of height 8·L + r is
one of the tile's inner nodes, stored with it: a proof is a few tile reads and look-ups.
"""
from django.db import connection

from .. import merkle
from .models import MerkleTile

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH_SIZE = 32

_UPSERT_SQL = """
INSERT INTO audit_merkletile (level, index, hashes, inner_nodes) VALUES (%s, %s, %s, %s)
ON CONFLICT (level, index) DO UPDATE SET hashes = EXCLUDED.hashes, inner_nodes = EXCLUDED.inner_nodes
"""


def _split(data: bytes) -> list[bytes]:
    return [data[i: i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _inner_rows(bottom: list[bytes]) -> list[list[bytes]]:
    """Rows of nodes above `bottom` inside a tile (128, 64, … 2 for a full one), floor-halved."""
    rows, row = [], bottom
    while len(rows) < TILE_HEIGHT - 1 and len(row) > 1:
        row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        rows.append(row)
    return rows


class TileStore:
    """Read access to the stored tiles of a tree of `size` leaves, with a per-instance cache."""

    def __init__(self, size: int):
        self.size = size
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._inner: dict[tuple[int, int], bytes] = {}
        self._trees: dict[tuple[int, int], list[list[bytes]]] = {}

    def count(self, level: int) -> int:
        return self.size >> (TILE_HEIGHT * level)

    def prefetch(self, keys) -> None:
        wanted = {key for key in keys if key not in self._tiles}
        if not wanted:
            return
        by_level: dict[int, list[int]] = {}
        for level, index in wanted:
            by_level.setdefault(level, []).append(index)
        for level, indexes in by_level.items():
            for tile_level, tile_index, hashes, inner in MerkleTile.objects.filter(
                level=level, index__in=indexes
            ).values_list("level", "index", "hashes", "inner_nodes"):
                self._tiles[(tile_level, tile_index)] = bytes(hashes)
                self._inner[(tile_level, tile_index)] = bytes(inner)

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            self.prefetch([key])
            if key not in self._tiles:
                raise LookupError(f"Merkle tile {level}/{index} is missing")
        return self._tiles[key]

    def _stored(self, key: tuple[int, int], row: int, offset: int) -> bytes | None:
        """The node read straight from the stored bytes (no splitting), or None when not stored."""
        tile = self.tile(*key)
        width = len(tile) // HASH_SIZE
        if row == 0:
            return tile[offset * HASH_SIZE: (offset + 1) * HASH_SIZE] if offset < width else None
        inner, start = self._inner.get(key, b""), 0
        for _ in range(1, row):
            width //= 2
            start += width
        width //= 2
        at = (start + offset) * HASH_SIZE
        if offset >= width or at + HASH_SIZE > len(inner):
            return None
        return inner[at: at + HASH_SIZE]

    def _rows(self, level: int, tile_index: int) -> list[list[bytes]]:
        """The tile's hashes and the rows of inner nodes above them, split once."""
        key = (level, tile_index)
        rows = self._trees.get(key)
        if rows is None:
            tile = self.tile(level, tile_index)
            rows = [_split(tile)]
            inner = _split(self._inner.get(key, b""))
            while len(rows) < TILE_HEIGHT and len(rows[-1]) > 1:
                width = len(rows[-1]) // 2
                row, inner = inner[:width], inner[width:]
                if len(row) != width:  # not stored (an older tile): computed
                    below = rows[-1]
                    row = [merkle.node_hash(below[i], below[i + 1]) for i in range(0, 2 * width, 2)]
                rows.append(row)
            self._trees[key] = rows
        return rows

    def subtree(self, height: int, index: int) -> bytes:
        """Root of the perfect subtree of `height` at `index` (leaves index·2^height onward)."""
        level, rest = divmod(height, TILE_HEIGHT)
        per_tile = TILE_WIDTH >> rest
        key, offset = (level, index // per_tile), index % per_tile
        found = self._stored(key, rest, offset)
        if found is not None:
            return found
        rows = self._rows(*key)
        if rest >= len(rows) or offset >= len(rows[rest]):
            raise LookupError(f"Merkle tile {level}/{index // per_tile} is shorter than the tree")
        return rows[rest][offset]

    def tiles_for_leaf(self, index: int) -> list[tuple[int, int]]:
        """Every tile a proof for leaf `index` may read (its own and its ancestors')."""
        keys, position, level = [], index, 0
        while (self.size >> (TILE_HEIGHT * level)) > 0:
            keys.append((level, position // TILE_WIDTH))
            position //= TILE_WIDTH
            level += 1
        return keys

    def root(self) -> bytes:
        return merkle.root(self.size, self.subtree)


def tiles_extend(store: TileStore, leaves: list[bytes]) -> TileStore:
    """Append `leaves` to the stored tree; the store of the grown tree is returned.

    Level by level: the partial tile and the new hashes are cut into tiles, each tile that
    became complete contributes its root to the level above.
    """
    new_size = store.size + len(leaves)
    rows, incoming, level = [], leaves, 0
    while incoming:
        have = store.count(level)
        start_tile = have // TILE_WIDTH
        partial = store.tile(level, start_tile) if have % TILE_WIDTH else b""
        buffer = [partial[i: i + HASH_SIZE] for i in range(0, len(partial), HASH_SIZE)] + incoming
        completed = []
        for offset in range(0, len(buffer), TILE_WIDTH):
            chunk = buffer[offset: offset + TILE_WIDTH]
            inner = _inner_rows(chunk)
            rows.append((level, start_tile + offset // TILE_WIDTH, b"".join(chunk), b"".join(b"".join(r) for r in inner)))
            if len(chunk) == TILE_WIDTH:
                completed.append(merkle.node_hash(*inner[-1]))
        # The first tile cut here was partial (or empty) before: every completed tile is new.
        incoming = completed
        level += 1
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), 500):
            cursor.executemany(_UPSERT_SQL, rows[offset: offset + 500])
    grown = TileStore(new_size)
    grown._tiles.update({(level, index): data for level, index, data, _ in rows})
    grown._inner.update({(level, index): inner for level, index, _, inner in rows})
    return grown
