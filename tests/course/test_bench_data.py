"""Every benchmark table on a lesson page is what the code makes of data committed beside it (issue 19)."""

from __future__ import annotations

import copy
import json
import re

import pytest

from course.bench import record
from course.exercises.meta import parse_course

from conftest import ROOT

COURSE = parse_course(ROOT)
BENCHMARKS = [(lesson, name) for lesson in COURSE.lessons for name in lesson.benchmarks]


def test_every_page_table_is_what_its_data_gives():
    assert record.stale(COURSE) == []


@pytest.mark.parametrize("lesson,name", BENCHMARKS, ids=[n for _, n in BENCHMARKS])
def test_every_benchmark_of_an_available_lesson_has_committed_data_and_a_region(lesson, name):
    found = record.records(COURSE, name)
    assert found, f"run `course bench {name} --save` and commit lessons/{lesson.page.split('/')[1]}/data/"
    for rec in found:
        assert rec["command"].startswith(f"course bench {name}") and "--save" in rec["command"]
        assert rec["date"] and rec["machine"]
    assert record.begin_marker(name) in (ROOT / lesson.page).read_text()


def test_a_changed_figure_is_reported_with_its_difference(monkeypatch):
    real = record.records

    def altered(course, name):
        found = copy.deepcopy(real(course, name))
        if name == "routing":
            found[0]["result"]["runs"]["all local"]["correct"] += 1
        return found

    monkeypatch.setattr(record, "records", altered)
    problems = [p for p in record.stale(COURSE) if "routing" in p]
    assert len(problems) == 1 and "course dev sync" in problems[0] and "+| all local | 100% | 15/24" in problems[0]


def test_lesson_03_quotes_its_committed_speeds():
    """The prose of lesson 03 names the fastest file and quotes three speeds: all from the committed ladders."""
    page = (ROOT / "lessons" / "l03_quantization" / "index.md").read_text()
    folder = ROOT / "lessons" / "l03_quantization" / "claims"
    quoted = {}
    for model, short in (("smollm2-135m", "SmolLM2"), ("qwen2.5-coder-0.5b", "Qwen")):
        rungs = {r["level"]: r for r in json.loads((folder / f"claims_{model}.json").read_text())["rungs"]}
        ladder = {k: v for k, v in rungs.items() if not k.startswith("shipped")}
        assert max(ladder, key=lambda k: ladder[k]["gen_tokens_per_s"]) == "Q4_0", model
        quoted[short] = [round(rungs[k]["gen_tokens_per_s"]) for k in ("Q4_K_M", "Q5_K_S", "Q8_0")]
    assert "the fastest file of both ladders is Q4_0" in " ".join(page.split())
    text = " ".join(page.split())
    smol, qwen = quoted["SmolLM2"], quoted["Qwen"]
    assert re.search(rf"SmolLM2 {smol[0]}, {smol[1]} and {smol[2]} tokens per second; Qwen {qwen[0]}, {qwen[1]} "
                     rf"and {qwen[2]}", text), (smol, qwen)


def test_lesson_05_prose_quotes_its_committed_run():
    r = record.records(COURSE, "routing")[0]["result"]
    text = " ".join((ROOT / "lessons" / "l05_hybrid_routing" / "index.md").read_text().split())
    p = {kind: [t["p_simple"] for t in r["per_task"] if t["kind"] == kind] for kind in ("routine", "complex")}
    right, of = r["routine_handled_locally"]["correct"], r["routine_handled_locally"]["of"]
    checked = r["runs"]["all local"]["checked"]
    quoted = [
        f"labels on {r['router_agreement']:.0%} of the tasks",
        f"Routine tasks get {min(p['routine']):.3g} to {max(p['routine']):.3g} and complex ones "
        f"{min(p['complex']):.3g} to {max(p['complex']):.3g}",
        f"it escalates {1 - r['runs']['cascade']['local_share']:.0%} of the tasks",
        f"all cloud costs only {r['cost_ratio_cloud_over_routed']['cascade']:.1f}x as much",
        f"right on {right} of the {of} routine checked tasks ({right / of:.0%})",
        f"none of the {checked - of} checked complex ones",
    ]
    for phrase in quoted:
        assert phrase in text, phrase


def test_lesson_04_prose_quotes_its_committed_runs():
    """The prose around lesson 04's tables quotes shares, speeds and ratios: all from the committed data."""
    text = " ".join((ROOT / "lessons" / "l04_edge_runtimes" / "index.md").read_text().split())
    rt = {r["runtime"]: r for r in record.records(COURSE, "runtimes")[0]["result"]["rows"]}
    kb = {r["label"]: r for r in record.records(COURSE, "knobs")[0]["result"]["rows"]}
    fastest = max(rt, key=lambda name: rt[name]["decode_tokens_per_s"])
    assert fastest == "onnxruntime-genai", "the page says ONNX Runtime GenAI decodes fastest"
    assert rt["onnxruntime"]["tokens"] == rt["onnxruntime-genai"]["tokens"], "the page says the two ONNX rows agree"
    assert all(r["agrees_with_llama_cpp"] < len(r["tokens"]) for name, r in rt.items() if name != "llama.cpp")
    base, busy2, busy1 = (kb[k]["gen_tokens_per_s"] for k in ("baseline", "busy core: 2 threads", "busy core: 1 thread"))
    quoted = [
        f"{rt['onnxruntime-genai']['roofline_fraction']:.0%} of the roofline, against llama.cpp's "
        f"{rt['llama.cpp']['roofline_fraction']:.0%}",
        f"decodes at {rt['onnxruntime']['decode_tokens_per_s'] / rt['onnxruntime-genai']['decode_tokens_per_s']:.0%} "
        "of GenAI's speed",
        f"MLX on Linux is slow**: {rt['mlx']['roofline_fraction']:.0%} of the roofline",
        f"At 64 it is {kb['n_ubatch 64']['compute_mib']:.1f} MiB, and the 400-token prompt ran at "
        f"{kb['n_ubatch 64']['prompt_tokens_per_s']:.0f} tokens/s, against {kb['baseline']['prompt_tokens_per_s']:.0f}",
        f"({kb['baseline']['kv_cache_mib']:.1f} to {kb['flash attention, q8_0 K and V']['kv_cache_mib']:.1f} MiB)",
        f"generation falls from {base:.1f} to {busy2:.1f} tokens/s, {base / busy2:.1f} times slower",
        f"keeps its idle speed ({busy1:.1f} tokens/s, against {kb['1 thread']['gen_tokens_per_s']:.1f})",
        f"when a core is busy ({kb['busy core: 2 threads, OpenMP passive wait']['gen_tokens_per_s']:.1f} tokens/s)",
        f"costs {1 - kb['OpenMP passive wait']['gen_tokens_per_s'] / base:.0%} of the speed when the machine is idle",
    ]
    for phrase in quoted:
        assert phrase in text, phrase
    assert busy1 > busy2, "the page says one thread beats two on a busy core"


def test_lesson_08_prose_quotes_its_committed_run():
    r = record.records(COURSE, "vllm")[0]["result"]
    text = " ".join((ROOT / "lessons" / "l08_vllm_serving" / "index.md").read_text().split())
    v = {x["clients"]: x["tokens_per_s"] for x in r["throughput"]["vllm"]}
    c = {x["clients"]: x["tokens_per_s"] for x in r["throughput"]["course serve"]}
    first, last = min(v), max(v)
    plain, ngram = r["copy"]["plain"], r["copy"]["ngram"]
    quoted = [
        f"vLLM's throughput grew from {v[first]:.0f} to {v[last]:.0f} tokens per second, while `course serve`'s "
        f"stayed between {min(c.values()):.0f} and {max(c.values()):.0f}",
        f"accepted {ngram['acceptance_rate']:.0%} of its draft tokens",
        f"generation was slower: {ngram['tokens_per_s']:.1f} tokens/s against {plain['tokens_per_s']:.1f}",
    ]
    for phrase in quoted:
        assert phrase in text, phrase
    assert v[first] < c[first] and v[last] > 2 * c[last], "the page says one client is faster on llama.cpp, many on vLLM"
    assert r["copy"]["same_text"] and ngram["tokens_per_s"] < plain["tokens_per_s"]
    assert r["prefix"]["second"]["hits"] == r["prefix"]["predicted_hits"] > 0, "the page says the prediction held"
    assert all(x["measured_preemptions"] == x["predicted_preemptions"] for x in r["preemption"].values())


def test_lesson_11_prose_quotes_its_committed_run():
    runs = [r for r in record.records(COURSE, "capstone")[0]["result"]["runs"] if "skipped" not in r]
    text = " ".join((ROOT / "lessons" / "l11_capstone" / "index.md").read_text().split())

    def run(agent, model, loop="guided", cloud="none"):
        return next(r for r in runs if r["agent"] == agent and r["model"].startswith(model)
                    and r.get("runtime", "llama.cpp") == "llama.cpp" and r["loop"] == loop and r["cloud_mode"] == cloud)

    kq, cq, ks = run("kiosk", "qwen"), run("clinic", "qwen"), run("kiosk", "smollm2")
    quoted = [
        f"Qwen solved {kq['success_rate']:.0%} with the guided loop and "
        f"{run('kiosk', 'qwen', 'free')['success_rate']:.0%} with lesson 00's; on the clinic's, "
        f"{cq['success_rate']:.0%} and {run('clinic', 'qwen', 'free')['success_rate']:.0%}",
        f"SmolLM2 solved {ks['success_rate']:.0%} and {run('kiosk', 'smollm2', 'free')['success_rate']:.0%}",
        f"(Qwen alone: {kq['success_routine']:.0%} of the routine tasks)",
        f"({kq['success_hard']:.0%} of the hard tasks alone)",
        f"(Qwen alone: {cq['success_routine']:.0%} of the routine tasks)",
        f"({cq['refusal_rate_where_required']:.0%} refused with it; with lesson 00's loop Qwen refused "
        f"{'none' if run('clinic', 'qwen', 'free')['refusal_rate_where_required'] == 0 else 'some'})",
        f"went from {cq['success_rate']:.0%} to {run('clinic', 'qwen', cloud='fake cloud')['success_rate']:.0%} "
        f"with the fake cloud, and back to {run('clinic', 'qwen', cloud='cloud cut')['success_rate']:.0%}",
    ]
    for phrase in quoted:
        assert phrase in text, phrase
    assert run("clinic", "qwen", cloud="cloud cut")["crashes"] == 0, "the page says no crash when the cloud was cut"
    solved = {k for k, rate in ks["by_category"].items() if rate}
    assert solved <= {"handoff", "refuse"}, "the page says SmolLM2 solved only the kiosk's refusals and hand-offs"
