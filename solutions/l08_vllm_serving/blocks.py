"""Exercise l08.1: a paged block allocator with reference counts and copy-on-write.

vLLM keeps the KV cache in blocks of ``block_size`` token positions. Each
sequence has a block table (its blocks, in order); a sequence takes a new
block only when its last one is full. Blocks are shared by reference count:
a forked sequence (two samples of one prompt) shares its parent's blocks,
and the first one to write into a shared block that is not full gets a copy
of it (copy-on-write). A block is free again when nothing refers to it.
"""

from course.vllm.paged import OutOfBlocks


class BlockAllocator:
    """``num_blocks`` blocks of ``block_size`` positions. Free blocks are handed out lowest id first."""

    def __init__(self, num_blocks: int, block_size: int):
        self.block_size = block_size
        self.num_blocks = num_blocks
        self.refs = [0] * num_blocks  # references to each block
        self.tables: dict[str, list[int]] = {}  # sequence -> its blocks, in order
        self.lengths: dict[str, int] = {}  # sequence -> token positions it holds

    @property
    def free_blocks(self) -> int:
        return self.refs.count(0)

    def _take(self) -> int:
        """The free block with the lowest id, now referenced once; ``OutOfBlocks`` when none is free."""
        for block, refs in enumerate(self.refs):
            if refs == 0:
                self.refs[block] = 1
                return block
        raise OutOfBlocks("no free block")

    def allocate(self, seq_id: str, num_tokens: int) -> list[int]:
        """A block table for a new sequence of ``num_tokens`` positions (``ceil(num_tokens / block_size)``
        blocks). All or nothing: raise ``OutOfBlocks`` and take nothing when too few are free; raise
        ``ValueError`` when ``seq_id`` already has blocks."""
        ### BEGIN SOLUTION
        if seq_id in self.tables:
            raise ValueError(f"{seq_id} already has blocks")
        needed = -(-num_tokens // self.block_size)
        if needed > self.free_blocks:
            raise OutOfBlocks(f"{seq_id} needs {needed} blocks, {self.free_blocks} are free")
        self.tables[seq_id] = [self._take() for _ in range(needed)]
        self.lengths[seq_id] = num_tokens
        return self.table(seq_id)
        ### END SOLUTION

    def append(self, seq_id: str) -> None:
        """One more position for ``seq_id``: a new block when its last block is full (or it has none); a
        private copy of its last block when that block is shared with another sequence and not full."""
        ### BEGIN SOLUTION
        table, n = self.tables[seq_id], self.lengths[seq_id]
        if n % self.block_size == 0:
            table.append(self._take())
        elif self.refs[table[-1]] > 1:
            copy = self._take()
            self.refs[table[-1]] -= 1
            table[-1] = copy
        self.lengths[seq_id] = n + 1
        ### END SOLUTION

    def fork(self, parent: str, child: str) -> None:
        """``child`` starts as a copy of ``parent``'s table, sharing every block (one more reference each)."""
        ### BEGIN SOLUTION
        if child in self.tables:
            raise ValueError(f"{child} already has blocks")
        for block in self.tables[parent]:
            self.refs[block] += 1
        self.tables[child] = list(self.tables[parent])
        self.lengths[child] = self.lengths[parent]
        ### END SOLUTION

    def free(self, seq_id: str) -> None:
        """Drop ``seq_id`` and one reference to each of its blocks; ``KeyError`` for an unknown sequence."""
        ### BEGIN SOLUTION
        for block in self.tables.pop(seq_id):
            self.refs[block] -= 1
        del self.lengths[seq_id]
        ### END SOLUTION

    def table(self, seq_id: str) -> list[int]:
        return list(self.tables[seq_id])
