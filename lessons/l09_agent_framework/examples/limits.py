"""A cap on agents running at once: a burst of six requests, two slots.

Fakes only: each agent's model takes 0.3 s to answer (a real sleep, so the
threads really overlap). With a patient wait every request gets its turn; with
a short one the overflow is refused with Busy, which a front end can turn into
"try again in a moment".
"""

import threading
import time

from course.agent import Agent
from course.backends import Reply, ScriptedBackend
from course.framework import AgentPool, Busy


def burst(pool: AgentPool, requests: int, wait_s: float) -> list[str]:
    outcomes = [""] * requests
    start = time.perf_counter()

    def one(i: int) -> None:
        agent = Agent(ScriptedBackend([Reply(f"answer {i}", first_token_delay=0.3)]))
        try:
            result = pool.run(lambda: agent.run(f"request {i}"), wait_s=wait_s)
            outcomes[i] = f"{result.answer} at {time.perf_counter() - start:.1f} s"
        except Busy as exc:
            outcomes[i] = f"refused at {time.perf_counter() - start:.1f} s: {exc}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


for wait_s in (5.0, 0.4):
    pool = AgentPool(2)
    print(f"six requests at once, 2 slots, wait up to {wait_s} s for a slot:")
    for line in burst(pool, 6, wait_s):
        print("  ", line)
    print(f"  peak running together: {pool.peak}, refused: {pool.refused}")
