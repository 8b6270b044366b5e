"""PagedAttention's bookkeeping, small: block tables, sharing, copy-on-write and prefix caching."""

from course.vllm.paged import PagedBlockAllocator

pool = PagedBlockAllocator(num_blocks=8, block_size=4)
prompt = [101, 7, 7, 42, 9, 13]  # 6 positions: one full block and half of another

pool.allocate("a", prompt)
print("a:", pool.seqs["a"].blocks, "free:", pool.num_free)

pool.fork("a", "b")  # a second sample of the same prompt shares every block
print("b (forked):", pool.seqs["b"].blocks, "free:", pool.num_free)

pool.append_token("b", 5)  # b writes into its half-full last block: it gets a copy first
pool.append_token("a", 8)
print("after one token each: a", pool.seqs["a"].blocks, "b", pool.seqs["b"].blocks, "copies:", pool.copies)

pool.free_sequence("a")
pool.free_sequence("b")
print("all freed: free", pool.num_free, "| full blocks still cached:", len(pool.cached))

hits = pool.allocate("c", prompt[:4] + [1, 2, 3])  # same first block as a's prompt
print(f"c reuses {hits} positions from the prefix cache; hits {pool.hit_tokens} of {pool.query_tokens} looked up")
