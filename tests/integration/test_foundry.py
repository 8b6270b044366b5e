"""Lesson 06: Foundry Local for real: preparation, registration, the in-process backend, the lesson 00 agent on it.

These run where the optional extras are installed (`.[foundry,foundry-prepare]`, part of `.[all]` and so of CI).
The whole module works in a private course cache, so the first test converts SmolLM2 from scratch.
"""

import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from extras import require_extra

require_extra("foundry", "foundry-prepare")

from course.cli.main import cli  # noqa: E402


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("course-cache")
        mp.setenv("COURSE_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def prepared(cache):
    first = CliRunner().invoke(cli, ["foundry", "prepare", "--json"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(cli, ["foundry", "prepare", "--json"])
    assert second.exit_code == 0, second.output
    return json.loads(first.stdout), json.loads(second.stdout)


@pytest.fixture(scope="module")
def backend(prepared):
    from course.foundry.runtime import FoundryLocalBackend

    b = FoundryLocalBackend("smollm2-135m")
    yield b
    b.close()


def test_prepare_converts_once_and_registers_once(prepared, cache):
    first, second = prepared
    assert first["converted"] and first["registered_now"] and first["model_id"] == "smollm2-135m-generic-cpu:1"
    assert 50e6 < first["bytes"] < 150e6 and set(first["stages"]) == {"gguf to hf", "hf to onnx int4"}
    forms = cache / "forms" / "smollm2-135m"
    folder = forms / "onnx-int4"
    assert first["folder"] == str(folder) and (folder / "genai_config.json").is_file()
    assert not second["converted"] and not second["registered_now"] and second["bytes"] == first["bytes"]
    assert sorted(p.name for p in forms.iterdir()) == ["hf", "onnx-int4"]  # no work folders left behind
    assert (forms / "hf" / "config.json").is_file()  # the hf form, kept for the runtimes that start from it


def test_the_backend_chats_and_streams_with_exact_usage(backend):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    reply = backend.chat(messages, max_tokens=24)
    assert "paris" in reply.content.lower()
    assert not reply.usage.estimated and 0 < reply.usage.completion_tokens <= 24 and reply.usage.prompt_tokens > 5
    assert reply.timings.ttft_s is not None and reply.timings.total_s >= reply.timings.ttft_s
    streamed = "".join(chunk.content for chunk in backend.stream(messages, max_tokens=24))
    assert streamed == reply.content  # greedy: the same text, delivered in pieces


def test_the_lesson_00_agent_runs_on_foundry_local(backend):
    from course.agent import Agent
    from course.tools.clock import get_current_time

    result = Agent(backend, [get_current_time], max_steps=3, max_tokens=64).run("What time is it in Paris right now?")
    assert result.stop_reason in ("answer", "max_steps") and result.trace.model_steps
    for step in result.trace.tool_steps:  # whatever the model chose, each call ran through the course's tool path
        assert step.call.name == "get_current_time" or not step.ok
    assert all(s.response.usage.completion_tokens > 0 for s in result.trace.model_steps)


def test_an_unprepared_model_says_how_to_prepare_it(prepared):
    from course.foundry.runtime import FoundryLocalBackend, FoundryUnavailableError

    with pytest.raises(FoundryUnavailableError, match="course foundry prepare --model qwen2.5-coder-0.5b"):
        FoundryLocalBackend("qwen2.5-coder-0.5b")


def test_missing_tools_are_one_clear_line(tmp_path, monkeypatch):
    import course.models.forms as forms

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))  # nothing converted here
    monkeypatch.setattr(forms, "missing_tools", lambda form: ["torch", "transformers"])
    result = CliRunner().invoke(cli, ["foundry", "prepare"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert 'needs torch, transformers: pip install -e ".[foundry-prepare]"' in " ".join(result.output.split())
    assert not (tmp_path / "forms").exists()


def test_side_by_side_measures_both_runtimes_in_their_own_processes(prepared):
    from course.foundry.compare import PROMPTS, agree, compare

    result = compare(max_tokens=16)
    llama, foundry = result.runs
    assert (llama.runtime, foundry.runtime) == ("llama.cpp", "foundry-local")
    assert llama.model_file.endswith(".gguf") and foundry.model_file.endswith("model.onnx")
    for run in result.runs:
        assert run.load_s > 0 and run.rss_model > 10e6 and len(run.answers) == len(PROMPTS)
        assert all(t > 0 for t in run.ttft_s) and all(r > 0 for r in run.tokens_per_s)
    assert len(result.agree) == len(PROMPTS)
    assert agree("12 + 30 = 32\n\nThis is", "12 + 30 = 32\n\nIn a group") and not agree("Paris.", "Lyon.")
    data = result.to_dict()
    assert data["runs"][1]["median_tokens_per_s"] > 0
    for first, a, b in zip(result.first_tokens, llama.answers, foundry.answers):  # probabilities from the GGUF model
        assert set(first) == {"llama.cpp", "foundry-local"}
        assert a.startswith(first["llama.cpp"]["token"].strip()) and b.startswith(first["foundry-local"]["token"].strip())
        assert all(0 < f["p"] <= 1 for f in first.values())


def test_the_web_service_serves_only_public_catalog_models(backend):
    """What lesson 06 reports about the SDK's built-in web service: offline, a model in the local catalog is
    neither listed nor served. If this starts failing, the SDK learned to serve it: update the lesson page."""
    import openai

    from course.foundry.runtime import manager

    fl = manager()
    fl.start_web_service()
    try:
        client = openai.OpenAI(base_url=fl.urls[0].rstrip("/") + "/v1", api_key="unused", max_retries=0, timeout=60)
        assert [m.id for m in client.models.list()] == []
        with pytest.raises(openai.NotFoundError, match="Model not found"):
            client.chat.completions.create(model=backend.model, max_tokens=4,
                                           messages=[{"role": "user", "content": "hi"}])
        assert backend.handle.is_loaded  # loaded in this process all along
    finally:
        fl.stop_web_service()


def test_the_graders_local_runtime_is_foundry_where_prepared_and_llama_cpp_elsewhere(prepared, monkeypatch):
    from course.backends import LlamaCppBackend
    from course.foundry.runtime import FoundryLocalBackend
    from course.grading import fixtures

    monkeypatch.delitem(fixtures._cache, "local_runtime", raising=False)
    runtime = fixtures.local_runtime()
    assert isinstance(runtime, FoundryLocalBackend) and runtime.chat([{"role": "user", "content": "Hi"}],
                                                                     max_tokens=4).content
    runtime.close()
    fixtures._cache.pop("local_runtime")
    monkeypatch.setenv("COURSE_CACHE", str(Path(tempfile.mkdtemp())))  # nothing prepared there
    assert isinstance(fixtures.local_runtime(), LlamaCppBackend)
    fixtures._cache.pop("local_runtime")


def test_the_forms_foundry_made_are_the_course_models_forms(prepared, cache):
    """`course models prepare` finds the same folders lesson 06 made: one cache, one prepare path."""
    runner = CliRunner()
    for form, folder in (("hf", "hf"), ("onnx", "onnx-int4")):
        out = runner.invoke(cli, ["models", "prepare", "smollm2-135m", "--form", form, "--json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert not data["converted"] and data["folder"] == str(cache / "forms" / "smollm2-135m" / folder)
