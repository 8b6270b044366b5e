"""Debian's Prometheus and promtool, run the way their users run them, on loopback and offline.

- :class:`PrometheusServer` starts a real Prometheus server (``prometheus`` from
  ``apt-get install prometheus``) with a configuration written for the run: it
  scrapes the given targets (``course serve``'s ``/metrics``) every
  ``scrape_interval_s``, evaluates the given rule files, keeps its data in a
  temporary folder, and is stopped and removed on ``close()``. ``query(expr)``
  asks its HTTP API for a PromQL instant vector; ``alerts()`` lists its alerts.
- :func:`test_rules` runs ``promtool test rules`` on a unit-test file of alert
  rules, as Prometheus users test them; :func:`check_rules` runs
  ``promtool check rules``.

Where Prometheus is not installed, :func:`prometheus_problem` says so with the
install command.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx
import yaml

from ..net import free_port

INSTALL = "sudo apt-get install prometheus"


class PrometheusError(RuntimeError):
    """Prometheus could not start, or answered a query with an error (the message is its own)."""


def prometheus_problem() -> str | None:
    """None where ``prometheus`` and ``promtool`` are on PATH; else what is missing and how to install it."""
    missing = [name for name in ("prometheus", "promtool") if shutil.which(name) is None]
    return f"{' and '.join(missing)} not found: {INSTALL}" if missing else None


def shipped_rules() -> tuple[Path, Path]:
    """The course's alert rules for ``course serve`` and their promtool unit tests."""
    folder = Path(str(resources.files("course.data") / "alerts"))
    return folder / "course_serve.rules.yml", folder / "course_serve.test.yml"


@dataclass
class RulesResult:
    ok: bool
    output: str  # promtool's own words: which test failed, expected and got


def _promtool(*args: str, cwd: Path | None = None) -> RulesResult:
    if shutil.which("promtool") is None:
        raise PrometheusError(f"promtool not found: {INSTALL}")
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    return RulesResult(done.returncode == 0, (done.stdout + done.stderr).strip())


def check_rules(rules: Path) -> RulesResult:
    """``promtool check rules``: the file parses and every expression is valid PromQL."""
    return _promtool("check", "rules", str(rules))


def test_rules(tests: Path) -> RulesResult:
    """``promtool test rules``: the unit tests of a rule file (its ``rule_files`` are read from beside it)."""
    return _promtool("test", "rules", str(Path(tests).name), cwd=Path(tests).parent)


test_rules.__test__ = False  # a library function, not a test for pytest to collect


class PrometheusServer:
    """A real Prometheus server for the length of a ``with`` block."""

    def __init__(self, targets: list[str], *, job: str = "course-serve", rule_files: list[Path] = (),
                 scrape_interval_s: float = 1.0, bearer_token: str | None = None, port: int | None = None):
        problem = prometheus_problem()
        if problem:
            raise PrometheusError(problem)
        self.targets = targets
        self.job = job
        self.rule_files = [Path(p) for p in rule_files]
        self.interval = scrape_interval_s
        self.bearer_token = bearer_token
        self.port = port or free_port()
        self.folder: Path | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict:
        interval = f"{int(self.interval * 1000)}ms"
        scrape = {"job_name": self.job, "scrape_interval": interval, "scrape_timeout": interval,
                  "static_configs": [{"targets": self.targets}]}
        if self.bearer_token:
            scrape["authorization"] = {"type": "Bearer", "credentials": self.bearer_token}
        return {"global": {"scrape_interval": interval, "evaluation_interval": interval},
                "rule_files": [str(p) for p in self.rule_files], "scrape_configs": [scrape]}

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        self.folder = Path(tempfile.mkdtemp(prefix="course-prometheus-"))
        (self.folder / "prometheus.yml").write_text(yaml.safe_dump(self.config()))
        self.log = (self.folder / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.folder / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--web.enable-lifecycle"], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited ({self.proc.returncode}): {self._log_tail()}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.close()
        raise PrometheusError(f"prometheus was not ready within {timeout:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return (self.folder / "prometheus.log").read_text()[-800:]
        except (OSError, TypeError):
            return ""

    def query(self, expr: str) -> list[tuple[dict, float]]:
        """A PromQL instant query: (labels, value) for each series of the result."""
        reply = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10).json()
        if reply.get("status") != "success":
            raise PrometheusError(f"{expr}: {reply.get('errorType')}: {reply.get('error')}")
        result = reply["data"]["result"]
        if reply["data"]["resultType"] == "scalar":
            return [({}, float(result[1]))]
        return [(item["metric"], float(item["value"][1])) for item in result]

    def value(self, expr: str) -> float | None:
        """The value of a query that gives one series (None when it gives none)."""
        rows = self.query(expr)
        if len(rows) > 1:
            raise PrometheusError(f"{expr} gave {len(rows)} series, not one")
        return rows[0][1] if rows else None

    def scrapes(self) -> int:
        """Successful scrapes of the job so far (each is a sample of ``up`` equal to 1)."""
        return int(self.value(f'sum(sum_over_time(up{{job="{self.job}"}}[1h]))') or 0)

    def wait_for_scrapes(self, count: int, timeout: float = 30.0) -> None:
        start = self.scrapes()
        deadline = time.monotonic() + timeout
        while self.scrapes() < start + count:
            if time.monotonic() > deadline:
                raise PrometheusError(f"fewer than {count} scrapes of {self.targets} in {timeout:g} s: "
                                      f"{self.targets_health()}")
            time.sleep(self.interval / 4)

    def targets_health(self) -> list[dict]:
        data = httpx.get(self.url + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return [{"url": t["scrapeUrl"], "health": t["health"], "error": t.get("lastError", "")} for t in data]

    def alerts(self) -> list[dict]:
        return httpx.get(self.url + "/api/v1/alerts", timeout=10).json()["data"]["alerts"]

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
