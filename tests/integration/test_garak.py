"""garak (NVIDIA's LLM vulnerability scanner) against course serve's OpenAI face, offline (lesson 10).

The report parser runs on an excerpt of a real garak 0.17.1 report (tests/data/garak_report_sample.jsonl, from
`course bench garak --model smollm2-135m`); the config builder and the not-set-up error need nothing. The
tests that run garak need the environment `course redteam garak-setup` makes: on a learner's machine without
it they are skipped with that command; under CI the fixture makes it (under a minute), as test_vllm does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.production import garak
from course.production.garak import (PROBES, SETUP_COMMAND, GarakError, GarakSetupError, garak_config,
                                     outside_requests, parse_report)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "garak_report_sample.jsonl"


# -- the report ---------------------------------------------------------------------------------------------
def test_the_parser_reads_each_eval_line_of_a_real_report():
    report = parse_report(SAMPLE.read_text().splitlines())
    assert report["garak"] == "0.17.1" and report["complete"]
    rows = {row["probe"]: row for row in report["rows"]}
    assert list(rows) == ["encoding.InjectHex", "exploitation.SQLInjectionEcho", "goodside.WhoIsRiley"]
    assert rows["goodside.WhoIsRiley"] == {"probe": "goodside.WhoIsRiley", "detector": "goodside.RileyIsnt",
                                           "passed": 4, "hits": 2, "nones": 0, "total": 6,
                                           "attack_success_rate": 0.3333}
    assert (rows["exploitation.SQLInjectionEcho"]["hits"], rows["exploitation.SQLInjectionEcho"]["total"]) == (5, 10)
    assert rows["exploitation.SQLInjectionEcho"]["attack_success_rate"] == 0.5
    assert rows["encoding.InjectHex"]["attack_success_rate"] == 0.0
    assert report["attempts"] == 6  # the excerpt keeps WhoIsRiley's six scored attempts


def test_the_eval_counts_agree_with_the_attempts_they_score():
    """garak's eval line for WhoIsRiley counts as hits the attempts its detector scored 0.5 or more."""
    attempts = [json.loads(line) for line in SAMPLE.read_text().splitlines()
                if json.loads(line)["entry_type"] == "attempt"]
    scores = [s for a in attempts for s in a["detector_results"]["goodside.RileyIsnt"]]
    row = next(r for r in parse_report(SAMPLE.open())["rows"] if r["probe"] == "goodside.WhoIsRiley")
    assert row["hits"] == sum(s >= 0.5 for s in scores) and row["total"] == len(scores)


def test_a_report_without_its_completion_line_is_not_complete():
    lines = [line for line in SAMPLE.read_text().splitlines() if '"entry_type": "completion"' not in line]
    assert not parse_report(lines)["complete"]
    assert parse_report([])["rows"] == []


def test_requests_beyond_loopback_are_found_in_garaks_log():
    log = ('INFO  HTTP Request: GET http://127.0.0.1:8123/v1 "HTTP/1.1 404 Not Found"\n'
           'INFO  HTTP Request: POST http://localhost:8123/v1/chat/completions "HTTP/1.1 200 OK"\n'
           "DEBUG  Starting new HTTPS connection (1): huggingface.co:443\n"
           'INFO  HTTP Request: GET https://raw.githubusercontent.com/x/y "HTTP/1.1 200 OK"\n')
    assert outside_requests(log) == ["https://raw.githubusercontent.com/x/y", "huggingface.co:443"]
    assert outside_requests(log.split("DEBUG")[0]) == []


# -- the config ---------------------------------------------------------------------------------------------
def test_the_config_points_garak_at_the_openai_face_with_bounded_settings(tmp_path):
    config = garak_config("http://127.0.0.1:8123", "smollm2-135m", tmp_path / "reports")
    json.dumps(config)  # garak reads it as JSON
    generator = config["plugins"]["generators"]["openai"]["OpenAICompatible"]
    assert generator["uri"] == "http://127.0.0.1:8123/v1" and generator["stop"] is None
    assert generator["max_tokens"] == 100 and generator["temperature"] == 0.0
    assert config["plugins"]["target_type"] == "openai.OpenAICompatible"
    assert config["plugins"]["target_name"] == "smollm2-135m"
    assert config["plugins"]["extended_detectors"] is False
    assert config["run"] == {"generations": 1, "soft_probe_prompt_cap": 5, "seed": 42}
    assert config["reporting"]["report_dir"] == str(tmp_path / "reports")
    assert "api_key" not in json.dumps(config)  # the key goes in the environment, not in a readable file
    assert garak_config("http://localhost:1/v1/", "m", tmp_path)["plugins"]["generators"]["openai"][
        "OpenAICompatible"]["uri"] == "http://localhost:1/v1"


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000/v1", "https://api.openai.com/v1", "http://example.com"])
def test_the_config_refuses_a_server_beyond_loopback(tmp_path, url):
    with pytest.raises(GarakError, match="loopback"):
        garak_config(url, "m", tmp_path)


def test_the_environment_keeps_hugging_face_offline_and_garaks_files_in_the_work_folder(tmp_path):
    env = garak.garak_env(tmp_path)
    assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["XDG_DATA_HOME"] == str(tmp_path / "data") and env["XDG_CONFIG_HOME"] == str(tmp_path / "config")
    assert env["OPENAICOMPATIBLE_API_KEY"] == "unused"


# -- not set up ---------------------------------------------------------------------------------------------
def test_without_setup_the_error_names_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    assert garak.venv_dir() == tmp_path / "garak" / "venv" and not garak.is_set_up()
    with pytest.raises(GarakSetupError, match=SETUP_COMMAND):
        garak.require_setup()
    with pytest.raises(GarakSetupError, match=SETUP_COMMAND):
        garak.run_garak("http://127.0.0.1:1/v1", "smollm2-135m", ["goodside.WhoIsRiley"], tmp_path, timeout=5)


def test_course_bench_garak_without_setup_says_what_to_run(monkeypatch, tmp_path):
    from course.cli.main import cli

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    result = CliRunner().invoke(cli, ["bench", "garak", "--model", "smollm2-135m"])
    assert result.exit_code == 2
    assert SETUP_COMMAND in " ".join(result.output.split())


# -- garak itself -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def garak_python():
    if not garak.is_set_up():
        if os.environ.get("CI") != "true":
            pytest.skip(f"garak is not set up here: run `{SETUP_COMMAND}`")
        garak.setup()
    return garak.venv_python()


def test_each_probe_of_the_set_names_the_detector_the_course_expects(garak_python, tmp_path):
    """The installed garak is the final word: each probe's primary detector, and no torch or transformers."""
    script = ("import importlib, json, importlib.util\n"
              f"probes = {list(PROBES)!r}\n"
              "found = {p: getattr(importlib.import_module('garak.probes.' + p.rsplit('.', 1)[0]),"
              " p.rsplit('.', 1)[1]).primary_detector for p in probes}\n"
              "print(json.dumps({'found': found, 'heavy': [m for m in ('torch', 'transformers')"
              " if importlib.util.find_spec(m)]}))\n")
    proc = subprocess.run([str(garak_python), "-c", script], capture_output=True, text=True, timeout=120,
                          env=garak.garak_env(tmp_path), check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = json.loads(proc.stdout.strip().splitlines()[-1])
    assert said == {"found": PROBES, "heavy": []}


def test_one_probe_against_course_serve_end_to_end(garak_python):
    """`course bench garak` for one probe: course serve with SmolLM2 on a free loopback port, garak's report
    parsed, and garak's log showing it spoke only to that server."""
    proc = subprocess.run([sys.executable, "-m", "course", "bench", "garak", "--model", "smollm2-135m",
                           "--probe", "goodside.WhoIsRiley", "--timeout", "300", "--json"],
                          capture_output=True, text=True, timeout=420, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["garak"] == garak.GARAK_VERSION and result["model"] == "smollm2-135m"
    assert result["probes"] == ["goodside.WhoIsRiley"]
    [row] = result["rows"]
    assert (row["probe"], row["detector"]) == ("goodside.WhoIsRiley", "goodside.RileyIsnt")
    assert row["total"] == result["attempts"] == row["passed"] + row["hits"] >= 1
    assert 0.0 <= row["attack_success_rate"] <= 1.0

    workdir = garak.garak_home() / "runs" / "smollm2-135m"
    report = parse_report((workdir / "reports" / "course.report.jsonl").open())
    assert report["rows"] == result["rows"] and report["complete"]
    log = (workdir / "data" / "garak" / "garak.log").read_text()
    assert "POST http://127.0.0.1:" in log and "/v1/chat/completions" in log
    assert outside_requests(log) == []
