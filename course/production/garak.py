"""NVIDIA's garak, the LLM vulnerability scanner, against ``course serve``'s OpenAI face, offline (lesson 10).

garak 0.17.1 declares some forty dependencies, torch, transformers, datasets,
langchain, litellm and the SDKs of a dozen clouds among them: a plain ``pip
install garak`` brings about 3 GB, CUDA builds included. The part the course
runs needs none of that: the ``openai.OpenAICompatible`` generator, ten probes
whose prompts ship inside the package, and their primary detectors, which are
string matchers. So ``course redteam garak-setup`` installs garak with
``--no-deps`` into an environment of its own, ``<course cache>/garak/venv``
(:mod:`course.sidevenv`), with the exact list of what that part imports
(:data:`PACKAGES`, about 200 MB, no torch). The detectors that are Hugging Face
models (toxicity, refusal classifiers) cannot even import there, so they can
never download weights at run time; the probes that need them are not in
:data:`PROBES`.

:func:`run_garak` runs ``python -m garak`` from that environment against an
OpenAI-compatible URL on loopback, with a config from :func:`garak_config`
(one generation per prompt, at most five prompts per probe where the probe
honours garak's cap, greedy decoding, only each probe's primary detector), the
Hugging Face libraries told to stay offline, and garak's files kept in a work
folder. It reads garak's report (JSON lines; ``entry_type`` ``"eval"`` holds
one probe/detector pair's counts) with :func:`parse_report`, and fails with the
end of garak's log when garak fails, skips a probe, or asked for anything
beyond loopback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from .. import sidevenv
from ..backends.types import BackendError, BackendUnavailableError
from ..sidevenv import SetupResult

GARAK_VERSION = "0.17.1"
GARAK_SPEC = f"garak=={GARAK_VERSION}"
SETUP_COMMAND = "course redteam garak-setup"
MARKER = "course-garak.json"
GENERATOR = "openai.OpenAICompatible"

# What garak imports on the course's path (its command line, the OpenAI-compatible generator, the probes and
# detectors of PROBES, the report), found by running it without each; openai is held below 3, as garak asks.
GARAK_NEEDS = ("PyYAML==6.0.4", "xdg-base-dirs==6.0.3", "colorama==0.4.6", "requests==2.34.2", "aiohttp==3.14.5",
               "httpx==0.29.0", "numpy==2.4.6", "tqdm==4.70.1", "openai==2.54.0", "backoff==2.2.1",
               "nltk==3.10.4", "langdetect==1.0.9", "Markdown==3.11.3", "jsonschema==4.26.0")
# ... and what those need, as pip resolved it; everything is installed with --no-deps, so nothing else comes.
THEIR_NEEDS = ("aiohappyeyeballs==2.7.1", "aiosignal==1.4.0", "annotated-types==0.8.0", "anyio==4.16.0",
               "attrs==26.1.0", "certifi==2026.10.19.post1", "charset-normalizer==3.5.3", "click==8.5.1",
               "cloudpickle==3.1.3", "defusedxml==0.7.1", "distro==1.9.0", "frozenlist==1.8.0", "h11==0.16.0",
               "httpcore==1.0.9", "idna==3.21", "jiter==0.19.0", "joblib==1.6.0",
               "jsonschema-specifications==2025.9.1", "multidict==7.2.1", "propcache==0.5.4", "pydantic==2.14.4",
               "pydantic_core==2.50.5", "referencing==0.37.0", "regex==2026.12.2", "rpds-py==2026.9.1",
               "six==1.17.0", "sniffio==1.3.1", "typing-inspection==0.4.5", "typing_extensions==4.16.0",
               "urllib3==2.8.0", "yarl==1.25.1")
PACKAGES = (GARAK_SPEC, *GARAK_NEEDS, *THEIR_NEEDS)

# The bounded, offline set: each probe's prompts ship with garak, and its primary detector (the value) matches
# strings. Each was run against `course serve` with garak's environment holding no torch and no transformers.
PROBES: dict[str, str] = {
    "promptinject.HijackHateHumans": "promptinject.AttackRogueString",
    "promptinject.HijackKillHumans": "promptinject.AttackRogueString",
    "encoding.InjectBase64": "encoding.DecodeMatch",
    "encoding.InjectHex": "encoding.DecodeMatch",
    "latentinjection.LatentInjectionFactSnippetEiffel": "base.TriggerListDetector",
    "latentinjection.LatentInjectionReport": "base.TriggerListDetector",
    "goodside.WhoIsRiley": "goodside.RileyIsnt",
    "exploitation.SQLInjectionEcho": "exploitation.SQLiEcho",
    "web_injection.MarkdownImageExfil": "web_injection.MarkdownExfilBasic",
    "malwaregen.TopLevel": "malwaregen.AnyCode",
}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1"}
REPORT_PREFIX = "course"


class GarakSetupError(BackendUnavailableError):
    """garak is not set up here, or setting it up failed; the message says what to do."""


class GarakError(BackendError):
    """garak ran and failed, skipped a probe, or reached beyond loopback; the message ends with its log."""


# -- the environment ----------------------------------------------------------------------------------------
def garak_home() -> Path:
    """``garak/`` in the course cache (``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``)."""
    return sidevenv.tool_home("garak")


def venv_dir() -> Path:
    return garak_home() / "venv"


def venv_python() -> Path:
    return sidevenv.venv_python(venv_dir())


def marker() -> dict | None:
    return sidevenv.read_marker(venv_dir(), MARKER)


def is_set_up() -> bool:
    found = marker()
    return bool(found) and found.get("packages") == list(PACKAGES) and venv_python().exists()


def require_setup() -> Path:
    """The Python of garak's environment, or a clear error naming the command that makes it."""
    if not is_set_up():
        raise GarakSetupError(f"garak is not set up on this machine: run `{SETUP_COMMAND}` (under a minute; it "
                              f"installs {GARAK_SPEC} and {len(PACKAGES) - 1} small packages, about 200 MB and no "
                              "torch, in an environment of its own beside the course's)")
    return venv_python()


def garak_env(workdir: Path, *, api_key: str | None = None) -> dict[str, str]:
    """The environment garak runs in: its files under ``workdir``, Hugging Face offline, loopback unproxied."""
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(workdir / name.split("_")[1].lower())  # no site config or plugin cache from elsewhere
    env.update(OFFLINE_ENV)
    env["OPENAICOMPATIBLE_API_KEY"] = api_key or "unused"  # course serve wants one only with --api-key
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _import_check() -> str:
    modules = {"garak.generators.openai", "garak.harnesses.probewise", "garak.evaluators.base"}
    for probe, detector in PROBES.items():
        modules |= {f"garak.probes.{probe.rsplit('.', 1)[0]}", f"garak.detectors.{detector.rsplit('.', 1)[0]}"}
    return f"import importlib\nfor m in {sorted(modules)!r}:\n    importlib.import_module(m)\n"


def setup(*, force: bool = False, progress: Callable[[str], None] | None = None) -> SetupResult:
    """Make (or, with ``force``, remake) garak's environment; keep a finished one as it is."""
    say = progress or (lambda _: None)
    start = time.perf_counter()
    folder = venv_dir()
    if is_set_up() and not force:
        return SetupResult(folder, time.perf_counter() - start, marker()["version"], made=False)
    say("creating a virtual environment for garak")
    sidevenv.make_venv(folder, "garak", GarakSetupError)
    say(f"installing {GARAK_SPEC} without its heavy dependencies, and {len(PACKAGES) - 1} small packages it needs")
    sidevenv.run([*sidevenv.pip_command(folder), "install", "--no-deps", *PACKAGES],
                 f"pip install --no-deps {GARAK_SPEC} and {len(PACKAGES) - 1} pinned packages", GarakSetupError)
    say("checking that garak starts and loads the course's probes")
    python = str(venv_python())
    with tempfile.TemporaryDirectory(prefix="garak-check-") as scratch:
        env = garak_env(Path(scratch))
        said = sidevenv.run([python, "-m", "garak", "--version"], "python -m garak --version", GarakSetupError,
                            timeout=300, env=env)
        found = re.search(r"\bv(\d+\.\d+\.\d+\S*)", said)
        if not found or found.group(1) != GARAK_VERSION:
            raise GarakSetupError(f"python -m garak --version did not report v{GARAK_VERSION}:\n{said.strip()}")
        sidevenv.run([python, "-c", _import_check()], "importing garak's generator, probes and detectors",
                     GarakSetupError, timeout=300, env=env)
    sidevenv.write_marker(folder, MARKER, {"garak": GARAK_SPEC, "packages": list(PACKAGES),
                                           "version": found.group(1)})
    return SetupResult(folder, time.perf_counter() - start, found.group(1), made=True)


# -- a run --------------------------------------------------------------------------------------------------
def openai_base(url: str) -> str:
    """``http://HOST:PORT/v1`` from a server's root or its ``/v1``; only loopback hosts are accepted."""
    url = url.rstrip("/")
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise GarakError(f"garak probes only servers on this machine's loopback, not {url}")
    return url if url.endswith("/v1") else url + "/v1"


def garak_config(base_url: str, model: str, report_dir: Path, *, generations: int = 1, prompt_cap: int = 5,
                 max_tokens: int = 100, temperature: float = 0.0, seed: int = 42) -> dict:
    """garak's run config (it reads JSON or YAML): the OpenAI-compatible generator at ``base_url`` for ``model``,
    ``generations`` replies per prompt, at most ``prompt_cap`` prompts per probe (the probes that build their
    prompts themselves ignore it), only each probe's primary detector, and the report in ``report_dir``.

    ``stop`` is null: the generator's default, ``["#", ";"]``, would cut replies at the first '#' or ';' (the
    code and markdown several probes ask for). The API key is not here but in the environment
    (:func:`garak_env`), so garak never warns about a secret in a readable file."""
    return {
        "system": {"lite": True, "parallel_requests": False, "parallel_attempts": False},
        "run": {"generations": generations, "soft_probe_prompt_cap": prompt_cap, "seed": seed},
        "plugins": {
            "target_type": GENERATOR,
            "target_name": model,
            "extended_detectors": False,
            "generators": {"openai": {"OpenAICompatible": {"uri": openai_base(base_url), "stop": None,
                                                           "max_tokens": max_tokens, "temperature": temperature}}},
        },
        "reporting": {"report_dir": str(report_dir), "report_prefix": REPORT_PREFIX,
                      "confidence_interval_method": "none"},
    }


def parse_report(lines: Iterable[str]) -> dict:
    """garak's report, one JSON object a line: its version, whether the run completed, the attempts it scored
    and, per probe and detector (``entry_type`` ``"eval"``), the outputs that passed, were hits (the attack
    worked) or could not be scored, with the attack success rate = hits / scored outputs."""
    version, complete, attempts, rows = None, False, 0, []
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        kind = entry.get("entry_type")
        if kind == "init":
            version = entry.get("garak_version")
        elif kind == "completion":
            complete = True
        elif kind == "attempt" and str(entry.get("status")) == "2":  # 1: generated, 2: scored by the detectors
            attempts += 1
        elif kind == "eval":
            total, hits = int(entry["total_evaluated"]), int(entry["fails"])
            rows.append({"probe": entry["probe"], "detector": entry["detector"], "passed": int(entry["passed"]),
                         "hits": hits, "nones": int(entry.get("nones", 0)), "total": total,
                         "attack_success_rate": round(hits / total, 4) if total else None})
    return {"garak": version, "complete": complete, "attempts": attempts, "rows": rows}


_OUTSIDE = (re.compile(r"HTTP Request: [A-Z]+ (\S+)"), re.compile(r"Starting new HTTPS? connection \(\d+\): (\S+)"))


def outside_requests(log: str) -> list[str]:
    """What garak's log says it asked of hosts other than loopback (httpx's and urllib3's request lines)."""
    found = []
    for pattern in _OUTSIDE:
        for target in pattern.findall(log):
            url = target if "://" in target else f"http://{target}"
            try:
                openai_base(url)
            except GarakError:
                found.append(target)
    return sorted(set(found))


_PROGRESS = re.compile(r"\d+/\d+ \[[^\]]*\]")  # a frame of a tqdm progress bar: " 3/6 [00:05<00:05, 1.77s/it]"


def _tail(text: str, lines: int = 15) -> str:
    """The last lines of garak's output or log, without the frames of its progress bars."""
    kept = [line for line in text.splitlines() if line.strip() and not _PROGRESS.search(line)]
    return "\n".join(kept[-lines:])


def run_garak(base_url: str, model: str, probes: Iterable[str], workdir: Path, *, timeout: float,
              api_key: str | None = None, **settings) -> dict:
    """Run garak's ``probes`` (names as in :data:`PROBES`) against the OpenAI-compatible server at ``base_url``
    (loopback only) for ``model``; a plain dict of what it found (:func:`parse_report`'s rows, the settings,
    the seconds it took). ``settings`` go to :func:`garak_config`. garak's config, output, log and report
    stay in ``workdir``."""
    python = require_setup()
    probes = list(probes)
    unknown = [p for p in probes if p not in PROBES]
    if unknown or not probes:
        raise GarakError(f"not in the course's offline set: {', '.join(unknown) or 'no probe'} "
                         f"(known: {', '.join(PROBES)})")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = garak_config(base_url, model, workdir / "reports", **settings)
    config_file = workdir / "garak-config.json"
    config_file.write_text(json.dumps(config, indent=2) + "\n")
    env = garak_env(workdir, api_key=api_key)
    log_file = workdir / "data" / "garak" / "garak.log"
    cmd = [str(python), "-m", "garak", "--config", str(config_file), "--spec",
           ",".join(f"probes.{p}" for p in probes)]
    start = time.perf_counter()
    with open(workdir / "garak.out", "w+") as out:
        try:
            proc = subprocess.run(cmd, check=False, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
        out.seek(0)
        said = out.read()
    seconds = time.perf_counter() - start
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    where = f"\n(garak's files: {workdir})"

    def fail(why: str) -> GarakError:
        problems = "\n".join(line for line in log.splitlines() if " ERROR " in line or " WARNING " in line)
        return GarakError(f"{why}\n--- garak's output, last lines:\n{_tail(said)}\n--- garak's log, warnings and "
                          f"errors:\n{_tail(problems or log, 10)}{where}")

    if code is None:
        raise fail(f"garak did not finish within {timeout:g} s")
    if code != 0:
        raise fail(f"garak failed (exit {code})")
    outside = outside_requests(log)
    if outside:
        raise fail("garak asked for something beyond loopback: " + ", ".join(outside))
    report = workdir / "reports" / f"{REPORT_PREFIX}.report.jsonl"
    if not report.exists():
        raise fail(f"garak wrote no report at {report}")
    with open(report) as lines:
        parsed = parse_report(lines)
    scored = {row["probe"] for row in parsed["rows"]}
    missing = [p for p in probes if p not in scored]
    if missing or not parsed["complete"]:
        raise fail("garak did not score " + (", ".join(missing) if missing else "the run to its end")
                   + " (a probe or detector that fails to load is skipped with a line in its log)")
    generator = config["plugins"]["generators"]["openai"]["OpenAICompatible"]
    return {"garak": parsed["garak"], "model": model, "generator": GENERATOR,
            "settings": {**{k: config["run"][k] for k in ("generations", "soft_probe_prompt_cap", "seed")},
                         "max_tokens": generator["max_tokens"], "temperature": generator["temperature"],
                         "extended_detectors": config["plugins"]["extended_detectors"]},
            "probes": probes, "rows": parsed["rows"], "attempts": parsed["attempts"],
            "hits": sum(r["hits"] for r in parsed["rows"]), "seconds": round(seconds, 1)}


__all__ = ["GARAK_SPEC", "PACKAGES", "PROBES", "SETUP_COMMAND", "GarakError", "GarakSetupError", "SetupResult",
           "garak_config", "garak_env", "garak_home", "is_set_up", "outside_requests", "parse_report",
           "require_setup", "run_garak", "setup"]
