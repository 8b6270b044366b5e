"""The claims lab: ladders built by llama.cpp's quantizer, measurements cached, verdicts that follow the figures."""

import json

import pytest

from course.quant import claims as C
from course.quant import ladder as L

from conftest import ROOT

REPORT = ROOT / "lessons" / "l03_quantization" / "claims"
COMMITTED = sorted(REPORT.glob("claims_*.json"))
SHORT_TEXT = "The harbour was quiet in the morning. " * 40


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private cache shared by this module's tests: the ladder is built and measured once."""
    root = tmp_path_factory.mktemp("claims")
    text = root / "text.txt"
    text.write_text(SHORT_TEXT)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_CACHE", str(root / "cache"))
        yield text


def test_a_small_ladder_is_built_measured_and_cached(cache, monkeypatch):
    results = C.run_claims("smollm2-135m", ["Q8_0", "Q4_0"], gen_tokens=8, text_file=str(cache))
    levels = [r["level"] for r in results["rungs"]]
    assert levels == ["F16", "Q8_0", "Q4_0"]
    by = {r["level"]: r for r in results["rungs"]}
    # sizes follow the bits: F16 is 16 bits per weight, Q8_0 about 8.5, Q4_0 smaller still
    assert by["F16"]["bits_per_weight"] == pytest.approx(16, abs=0.05)
    assert by["F16"]["file_bytes"] > by["Q8_0"]["file_bytes"] > by["Q4_0"]["file_bytes"]
    assert all(r["perplexity"] > 1 and r["gen_tokens_per_s"] > 0 for r in results["rungs"])
    assert results["shipped"]["level"] == "shipped Q4_1"
    # the verdicts are those the printed figures give
    q8 = next(v for v in results["verdicts"] if v["claim"].startswith("Q8_0"))
    size = by["Q8_0"]["file_bytes"] / by["F16"]["file_bytes"]
    ppl = by["Q8_0"]["perplexity"] / by["F16"]["perplexity"] - 1
    assert q8["verdict"] == ("holds" if 0.4 <= size <= 0.6 and abs(ppl) <= 0.01 else "does not hold")
    assert f"{size:.1%}" in q8["measured"]
    # a second run reuses every measurement
    monkeypatch.setattr(C, "_measure_in_child", lambda *a, **k: pytest.fail("measured again"))
    again = C.run_claims("smollm2-135m", ["Q8_0", "Q4_0"], gen_tokens=8, text_file=str(cache))
    assert again["rungs"] == results["rungs"]


def test_cli_claims_json_and_report(cache, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from course.cli.main import cli

    runner = CliRunner()
    out = tmp_path / "report"
    # the same settings as the test above: every measurement comes from the cache
    monkeypatch.setattr(C, "_measure_in_child", lambda *a, **k: pytest.fail("measured again"))
    result = runner.invoke(cli, ["claims", "--levels", "Q8_0", "--gen-tokens", "8", "--text", str(cache),
                                 "--json", "--report", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output[result.output.index("{"):])
    assert [r["level"] for r in payload["models"][0]["rungs"]] == ["F16", "Q8_0"]
    assert {v["claim"] for v in payload["size_table"]} >= {"Phi-4 is about 7.0 GB"}
    assert (out / "claims_smollm2-135m.json").exists() and (out / "smollm2-135m_size_vs_perplexity.svg").exists()


def test_a_damaged_ladder_file_is_rebuilt(cache):
    rung = L.ladder_dir("smollm2-135m") / "Q4_0.gguf"
    size = rung.stat().st_size
    rung.write_bytes(rung.read_bytes()[:1000])
    rebuilt = L.build_ladder("smollm2-135m", ["Q4_0"])
    assert rebuilt[-1].path == rung and rung.stat().st_size == size


def test_unknown_levels_and_models_get_clear_errors(cache):
    with pytest.raises(L.LadderError, match="unknown level.*Q9_9"):
        L.build_ladder("smollm2-135m", ["Q9_9"])
    from click.testing import CliRunner

    from course.cli.main import cli

    result = CliRunner().invoke(cli, ["claims", "--model", "smollm3"])
    assert result.exit_code != 0 and "unknown model" in result.output


def test_quantizer_failure_is_reported_with_llama_cpp_words(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(L.LadderError, match="could not quantize"):
        L.quantize_file(bad, tmp_path / "out.gguf", "Q4_0")
    assert not (tmp_path / "out.gguf").exists() and not (tmp_path / "out.partial").exists()


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_report_is_what_the_code_makes_of_its_results(path):
    """The lesson page shows tables and figures generated from the committed results, verdicts included."""
    results = json.loads(path.read_text())
    model = results["model"]
    assert results["verdicts"] == C.verdicts(results)
    assert (REPORT / f"claims_{model}_table.md").read_text() == C.table_markdown(results)
    assert (REPORT / f"claims_{model}_verdicts.md").read_text() == C.verdicts_markdown(results["verdicts"])
    assert (REPORT / f"claims_{model}_devices.md").read_text() == C.guidance_markdown(C.device_guidance(results))
    for name, svg in C.plots(results).items():
        assert (REPORT / f"{model}_{name}").read_text() == svg


def test_committed_reports_exist():
    assert {p.name for p in COMMITTED} >= {"claims_smollm2-135m.json"}


def test_verdict_rules_on_made_up_figures():
    def rung(level, mb, ppl, tok_s=100.0):
        return {"level": level, "file_bytes": mb * 1e6, "perplexity": ppl, "gen_tokens_per_s": tok_s,
                "bits_per_weight": 8 * mb * 1e6 / 1e8}

    results = {"model": "m", "settings": {"threads": 2}, "rungs": [
        rung("F16", 200, 10.0, 50), rung("Q8_0", 106, 10.05, 60), rung("Q4_0", 56, 11.0, 90),
        rung("Q2_K", 40, 20.0), rung("Q4_K_M", 60, 10.5, 90), rung("Q5_K_S", 70, 10.3, 80)]}
    v = {x["claim"].split(" ")[0]: x["verdict"] for x in C.verdicts(results)}
    assert v["Q8_0"] == "holds"  # 53%, +0.5%
    assert v["Q4_0"] == "holds"  # 72% smaller
    assert v["Q2_K"] == "holds"
    assert v["Q4_K"] == "holds"  # 90 > 80 * 1.05 > 60 * 1.05
    results["rungs"][1] = rung("Q8_0", 106, 10.5, 60)  # +5%: not near the original
    results["rungs"][2] = rung("Q4_0", 80, 11.0, 90)  # 60% smaller
    v = {x["claim"].split(" ")[0]: x["verdict"] for x in C.verdicts(results)}
    assert v["Q8_0"] == "does not hold" and v["Q4_0"] == "does not hold"
