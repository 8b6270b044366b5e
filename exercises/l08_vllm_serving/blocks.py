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
        # YOUR CODE HERE: exercise l08.1, A paged block allocator
        raise NotImplementedError("exercise l08.1: read lessons/l08_vllm_serving/index.md#a-paged-block-allocator, then run `course check l08`")

    def append(self, seq_id: str) -> None:
        """One more position for ``seq_id``: a new block when its last block is full (or it has none); a
        private copy of its last block when that block is shared with another sequence and not full."""
        # YOUR CODE HERE: exercise l08.1, A paged block allocator
        raise NotImplementedError("exercise l08.1: read lessons/l08_vllm_serving/index.md#a-paged-block-allocator, then run `course check l08`")

    def fork(self, parent: str, child: str) -> None:
        """``child`` starts as a copy of ``parent``'s table, sharing every block (one more reference each)."""
        # YOUR CODE HERE: exercise l08.1, A paged block allocator
        raise NotImplementedError("exercise l08.1: read lessons/l08_vllm_serving/index.md#a-paged-block-allocator, then run `course check l08`")

    def free(self, seq_id: str) -> None:
        """Drop ``seq_id`` and one reference to each of its blocks; ``KeyError`` for an unknown sequence."""
        # YOUR CODE HERE: exercise l08.1, A paged block allocator
        raise NotImplementedError("exercise l08.1: read lessons/l08_vllm_serving/index.md#a-paged-block-allocator, then run `course check l08`")

    def table(self, seq_id: str) -> list[int]:
        return list(self.tables[seq_id])
