"""Prometheus scraping course serve, then PromQL over a bounded load.

Debian's Prometheus runs on loopback with the course's alert rules; course
serve answers with a scripted model (20 ms to its first word) so that the
figures are about the plumbing, not the model. 24 requests from 2 clients,
every sixth for a model that is not there; then the queries a dashboard would
run. `course bench prometheus` does the same with SmolLM2 (the page's table).
"""

from course.backends.fake import Endless, Reply, ScriptedBackend
from course.production.bench import load_and_query
from course.production.prometheus import PrometheusServer, shipped_rules
from course.servers import CourseServer, Engine


def scripted(alias, kind, n_ctx):
    return ScriptedBackend([Endless(Reply("red green blue", first_token_delay=0.02))])


engine = Engine(["smollm2-135m"], loader=scripted, estimate=lambda a, k, n: 2**20)
rules, _ = shipped_rules()
with CourseServer(port=0, engine=engine, log=None) as server, \
        PrometheusServer([f"127.0.0.1:{server.port}"], rule_files=[rules], scrape_interval_s=0.5) as prom:
    result = load_and_query(server.url, prom, model="smollm2-135m", requests=24, clients=2)

print(f"{result['requests']} requests in {result['load_s']} s: the clients saw {result['client_ok']} answers, "
      f"{result['client_errors']} errors")
for name, value in result["promql"].items():
    print(f"{name:>15} = {value}    {result['queries'][name]}")
print("alerts pending or firing:", result["alerts"] or "none (an alert needs minutes of trouble, by its `for`)")
