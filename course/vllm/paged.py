"""PagedAttention's memory manager, small: the KV cache in fixed-size blocks.

A server that runs many conversations at once cannot give each one a slab of
KV cache as long as its longest possible reply: most of it would sit empty.
vLLM cuts the cache into **blocks** of ``block_size`` token positions (16 on a
GPU, larger on the CPU) and gives each sequence a **block table**, the list of
the blocks that hold its positions, like a page table maps virtual memory
onto physical pages. A sequence takes a new block only when its last one is
full, so at most ``block_size - 1`` positions per sequence are wasted.

Blocks can be shared:

* **reference counts**: a block belongs to every sequence whose table lists
  it, and returns to the free pool when the last one lets it go;
* **copy-on-write**: two sequences forked from one prompt share its blocks;
  the first to write into a shared, partly filled block gets a copy of it;
* **prefix caching**: a full block is known by a hash of its tokens *chained*
  to the hash of the block before it, so equal hashes mean an equal prefix,
  not just an equal block. A new sequence whose first blocks hash the same
  reuses them instead of computing them again. Freed blocks keep their hash
  and stay in the pool, reusable until they are needed for something else,
  least recently freed first.

:class:`PagedBlockAllocator` keeps these rules; :mod:`.scheduler` decides
which sequences run each step and preempts one when the blocks run out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

ROOT_HASH = b""


def block_hash(parent: bytes, tokens: Sequence[int]) -> bytes:
    """The hash of a full block: its tokens chained to its parent block's hash."""
    digest = hashlib.sha256(parent)
    digest.update(b",".join(str(t).encode() for t in tokens))
    return digest.digest()


def block_hashes(tokens: Sequence[int], block_size: int) -> list[bytes]:
    """The chained hashes of every *full* block of ``tokens`` (a partial last block has none)."""
    hashes, parent = [], ROOT_HASH
    for start in range(0, len(tokens) - block_size + 1, block_size):
        parent = block_hash(parent, tokens[start:start + block_size])
        hashes.append(parent)
    return hashes


class OutOfBlocks(RuntimeError):
    """No free block is left: the scheduler must wait or preempt a sequence."""


@dataclass
class Block:
    id: int
    ref_count: int = 0
    hash: bytes | None = None  # set once the block is full (prefix caching)


@dataclass
class SequenceBlocks:
    """One sequence's block table and how many token positions it holds."""

    blocks: list[int] = field(default_factory=list)
    num_tokens: int = 0
    tokens: list[int] = field(default_factory=list)


class PagedBlockAllocator:
    """``num_blocks`` blocks of ``block_size`` positions, shared by reference count, with prefix caching."""

    def __init__(self, num_blocks: int, block_size: int, *, prefix_caching: bool = True):
        if num_blocks < 1 or block_size < 1:
            raise ValueError(f"need at least one block of one position, got {num_blocks} x {block_size}")
        self.block_size = block_size
        self.prefix_caching = prefix_caching
        self.blocks = [Block(i) for i in range(num_blocks)]
        self.free: OrderedDict[int, None] = OrderedDict((i, None) for i in range(num_blocks))  # oldest first
        self.cached: dict[bytes, int] = {}  # hash -> block id, for full blocks
        self.seqs: dict[str, SequenceBlocks] = {}
        self.hit_tokens = 0  # prefix-cache hits, in token positions
        self.query_tokens = 0  # prompt positions looked up in the prefix cache
        self.copies = 0  # copy-on-write copies made

    # -- the pool ---------------------------------------------------------------------------------
    @property
    def num_free(self) -> int:
        return len(self.free)

    @property
    def num_used(self) -> int:
        return len(self.blocks) - len(self.free)

    def _take(self) -> int:
        """A free block for new contents: the least recently freed (its cached hash, if any, is forgotten)."""
        if not self.free:
            raise OutOfBlocks(f"all {len(self.blocks)} blocks are in use")
        block_id, _ = self.free.popitem(last=False)
        block = self.blocks[block_id]
        if block.hash is not None and self.cached.get(block.hash) == block_id:
            del self.cached[block.hash]
        block.hash, block.ref_count = None, 1
        return block_id

    def _share(self, block_id: int) -> None:
        block = self.blocks[block_id]
        if block.ref_count == 0:
            del self.free[block_id]
        block.ref_count += 1

    def _release(self, block_id: int) -> None:
        block = self.blocks[block_id]
        if block.ref_count <= 0:
            raise RuntimeError(f"block {block_id} freed twice")
        block.ref_count -= 1
        if block.ref_count == 0:
            self.free[block_id] = None  # most recently freed: evicted last

    def _seal(self, seq: SequenceBlocks, index: int) -> None:
        """Block ``index`` of ``seq`` just filled up: give it its chained hash, and cache it."""
        if not self.prefix_caching:
            return
        parent = self.blocks[seq.blocks[index - 1]].hash if index else ROOT_HASH
        start = index * self.block_size
        h = block_hash(parent or ROOT_HASH, seq.tokens[start:start + self.block_size])
        block = self.blocks[seq.blocks[index]]
        block.hash = h
        self.cached.setdefault(h, block.id)

    # -- sequences -----------------------------------------------------------------------------------
    def blocks_needed(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading token positions of ``tokens`` the prefix cache holds (whole blocks)."""
        if not self.prefix_caching:
            return 0
        n = 0
        for h in block_hashes(tokens, self.block_size):
            if h not in self.cached:
                break
            n += self.block_size
        return n

    def allocate(self, seq_id: str, tokens: Sequence[int], num_tokens: int | None = None) -> int:
        """Blocks for a new sequence: its first ``num_tokens`` positions (all of ``tokens`` by default; fewer
        for the first chunk of a long prompt). Returns the positions found in the prefix cache.

        The cache is looked up for the whole of ``tokens``, and the last
        position is always computed (its logits give the next token). All or
        nothing: if the blocks needed beyond the cached prefix are not free,
        nothing is taken and :class:`OutOfBlocks` is raised.
        """
        if seq_id in self.seqs:
            raise ValueError(f"sequence {seq_id!r} already has blocks")
        num_tokens = len(tokens) if num_tokens is None else num_tokens
        hits = self.cached_prefix(tokens)
        if len(tokens) and hits == len(tokens):
            hits -= self.block_size
        hits = min(hits, num_tokens // self.block_size * self.block_size)
        hit_blocks = [self.cached[h] for h in block_hashes(tokens, self.block_size)[:hits // self.block_size]]
        new_needed = self.blocks_needed(num_tokens) - len(hit_blocks)
        free_after_hits = self.num_free - sum(1 for b in hit_blocks if self.blocks[b].ref_count == 0)
        if new_needed > free_after_hits:
            raise OutOfBlocks(f"sequence {seq_id!r} needs {new_needed} new blocks, {free_after_hits} are free")
        seq = SequenceBlocks(tokens=list(tokens[:num_tokens]))
        for b in hit_blocks:
            self._share(b)
            seq.blocks.append(b)
        for _ in range(new_needed):
            seq.blocks.append(self._take())
        seq.num_tokens = num_tokens
        for i in range(len(hit_blocks), num_tokens // self.block_size):
            self._seal(seq, i)
        self.seqs[seq_id] = seq
        self.hit_tokens += hits
        self.query_tokens += len(tokens)
        return hits

    def append_token(self, seq_id: str, token: int) -> None:
        """One more position for ``seq_id`` (a generated token): a new block when the last is full,
        a copy of the last block when it is shared (copy-on-write)."""
        seq = self.seqs[seq_id]
        if seq.num_tokens % self.block_size == 0:
            seq.blocks.append(self._take())
        else:
            last = seq.blocks[-1]
            if self.blocks[last].ref_count > 1:  # shared and not full: write into a copy of it
                copy = self._take()
                self._release(last)
                seq.blocks[-1] = copy
                self.copies += 1
        seq.tokens.append(token)
        seq.num_tokens += 1
        if seq.num_tokens % self.block_size == 0:
            self._seal(seq, len(seq.blocks) - 1)

    def fork(self, parent_id: str, child_id: str) -> None:
        """A new sequence sharing every block of ``parent_id`` (parallel sampling, beam search)."""
        if child_id in self.seqs:
            raise ValueError(f"sequence {child_id!r} already has blocks")
        parent = self.seqs[parent_id]
        for b in parent.blocks:
            self._share(b)
        self.seqs[child_id] = SequenceBlocks(list(parent.blocks), parent.num_tokens, list(parent.tokens))

    def free_sequence(self, seq_id: str) -> None:
        """Give back every block of ``seq_id`` (full blocks stay cached until they are reused)."""
        seq = self.seqs.pop(seq_id)
        for b in reversed(seq.blocks):  # the tail first, so a prefix outlives its continuations in the pool
            self._release(b)


__all__ = ["Block", "OutOfBlocks", "PagedBlockAllocator", "block_hash", "block_hashes"]
