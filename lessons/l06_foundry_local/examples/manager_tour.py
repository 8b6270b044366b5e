"""The course's model manager on fakes: load, health, metrics, idle and memory-budget unloading.

The clock is a fake, so "ten minutes idle" takes no time, and the models are
scripted backends, so the run is the same every time.
"""

from course.backends import BackendError, FakeClock, Reply, ScriptedBackend
from course.foundry.manager import ModelManager


class FailingRuntime(ScriptedBackend):
    def _generate(self, request):
        raise BackendError("the runtime returned an error")


clock = FakeClock()
sizes = {"small": 100_000_000, "medium": 250_000_000, "broken": 50_000_000}
prepared = {"small", "medium", "broken"}


def load(alias):
    return FailingRuntime([]) if alias == "broken" else ScriptedBackend([Reply("ok")] * 20)


mm = ModelManager(load, prepared=lambda a: a in prepared, size_of=sizes.get, idle_s=600,
                  memory_budget=300_000_000, clock=clock)

print("before anything:", mm.health("small").state, "|", mm.health("tiny").state)
mm.chat("small", [{"role": "user", "content": "hi"}])
print("after one request:", mm.health("small").state)
mm.load("broken")
print("broken model:", mm.health("broken").state, "-", mm.health("broken").detail)

clock.advance(300)
mm.chat("small", [{"role": "user", "content": "hi again"}])
mm.load("medium")  # 250 MB more does not fit in 300 MB: the least recently used goes
print("loaded now:", sorted(mm.loaded))

clock.advance(700)
print("700 s later, idle for 600 s or more:", mm.reap())
print("events:", "; ".join(mm.events))
m = mm.metrics("small")  # health probes are requests too: they count
print(f"small: {m['requests']} requests, error rate {m['error_rate']:.0%}, p50 {m['p50_s'] * 1000:.2f} ms")
