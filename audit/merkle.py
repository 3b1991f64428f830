"""RFC 9162 Merkle tree arithmetic over raw 32-byte hashes (no database, no Django).

Leaf i of a tenant's tree is SHA-256(0x00 ‖ entry hash of the entry with seq i+1), the entry
hash taken as its 32 raw bytes; an inner node is SHA-256(0x01 ‖ left ‖ right). A tree of n
leaves splits at k, the largest power of two below n (RFC 9162 §2.1.1).

`subtree` callbacks give the hash of a *perfect* subtree: `subtree(height, index)` is the root
of leaves [index·2^height, (index+1)·2^height). The stores (tiles in the database, a list in
memory) supply it; every function here is then a handful of hash operations, never a walk
over all leaves.
"""
from collections.abc import Callable, Iterable
from hashlib import sha256

Subtree = Callable[[int, int], bytes]

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(entry_hash: bytes) -> bytes:
    return sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_root(hashes: list[bytes]) -> bytes:
    """The root over a power-of-two run of same-height hashes."""
    level = hashes
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def range_hash(start: int, end: int, subtree: Subtree) -> bytes:
    """MTH of leaves [start, end) where start is aligned as RFC 9162 trees align their subtrees.

    Either [start, end) is perfect (one `subtree` call) or it splits at start + k.
    """
    size = end - start
    if size & (size - 1) == 0:
        height = size.bit_length() - 1
        return subtree(height, start >> height)
    k = split_point(size)
    return node_hash(range_hash(start, start + k, subtree), range_hash(start + k, end, subtree))


def root(size: int, subtree: Subtree) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, subtree)


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf-side sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start = start + k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [range_hash(start, end, subtree)]
        k = split_point(n)
        if m <= k:
            return subproof(m, start, start + k, complete) + [range_hash(start + k, end, subtree)]
        return subproof(m - k, start + k, end, False) + [range_hash(start, start + k, subtree)]

    return subproof(old_size, 0, new_size, True)


class CompactRange:
    """The perfect subtrees covering leaves [0, size): the minimal state that extends a tree.

    `peaks` holds (height, hash) from the left, heights strictly decreasing: the binary digits
    of `size`. Appending a leaf merges equal-height peaks, as a binary counter carries.
    """

    __slots__ = ("size", "peaks")

    def __init__(self, size: int = 0, peaks: Iterable[tuple[int, bytes]] = ()):
        self.size = size
        self.peaks = list(peaks)

    @classmethod
    def of(cls, size: int, subtree: Subtree) -> "CompactRange":
        peaks, start = [], 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size >> height & 1:
                peaks.append((height, subtree(height, start >> height)))
                start += 1 << height
        return cls(size, peaks)

    def append(self, leaf: bytes, on_complete: Callable[[int, int, bytes], None] | None = None) -> None:
        """Add one leaf; `on_complete(height, index, hash)` hears of every perfect subtree it closes."""
        peaks, height, value = self.peaks, 0, leaf
        index = self.size
        if on_complete:
            on_complete(0, index, value)
        while peaks and peaks[-1][0] == height:
            value = node_hash(peaks.pop()[1], value)
            height += 1
            index >>= 1
            if on_complete:
                on_complete(height, index, value)
        peaks.append((height, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        value = self.peaks[-1][1]
        for _, left in reversed(self.peaks[:-1]):
            value = node_hash(left, value)
        return value

    def copy(self) -> "CompactRange":
        return CompactRange(self.size, self.peaks)
