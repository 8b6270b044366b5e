"""Lesson 11's guided loop, simulated small model and capstone project machinery, with fakes: the triage and
the constrained rounds, what the simulated model does, the scaffold refusing to overwrite work, the reference
agents refused in a project, the token meter stopping long answers, and a good design scoring above the start
on both areas."""

from __future__ import annotations

import json
import textwrap

import pytest

from course.backends.base import ChatBackend
from course.backends.fake import Endless, Reply, ScriptedBackend
from course.backends.types import Delta, Usage
from course.capstone.agents import AGENTS, kiosk_tools, kiosk_world
from course.capstone.cloud import TaskCloud
from course.capstone.evaluate import evaluate
from course.capstone.guided import GuidedAgent
from course.capstone.project import (ProjectError, TokenBudget, area, area_tasks, load_project, new_project,
                                     run_project, scaffold)
from course.capstone.simulated import DOSE, SimulatedSLM
from course.capstone.tasks import load_tasks, public_tasks


def kiosk_tasks():
    return load_tasks(public_tasks("kiosk"), tools=set(AGENTS["kiosk"][2]))


def test_the_triage_answers_without_the_model_and_hands_off_in_code():
    world = kiosk_world()
    model = ScriptedBackend([Endless(Reply("the model should not be asked"))])
    agent = GuidedAgent(model, kiosk_tools(world), instructions="kiosk",
                        triage=lambda text: ("handoff", "refund") if "refund" in text else ("answer", ""),
                        handoff_tool="handoff_to_human", replies={"handoff": "staff is coming", "refuse": "no"})
    result = agent.run("I want a refund for this kettle")
    assert result.answer == "staff is coming" and world.handoffs == ["refund"]
    assert [s.kind for s in result.trace.steps] == ["triage"]


def test_guided_agent_refuses_bad_settings():
    tools = kiosk_tools(kiosk_world())
    model = ScriptedBackend([])
    with pytest.raises(ValueError, match="at least one tool"):
        GuidedAgent(model, [], instructions="x")
    with pytest.raises(ValueError, match="handoff_tool"):
        GuidedAgent(model, tools, instructions="x", triage=lambda t: ("answer", ""), handoff_tool="nope",
                    replies={"handoff": "a", "refuse": "b"})
    with pytest.raises(ValueError, match="does not have"):
        GuidedAgent(model, tools, instructions="x", first_round_only=["book_appointment"])


def test_the_simulated_model_makes_one_right_call_and_never_chains_or_refuses():
    tasks = kiosk_tasks()
    task = next(t for t in tasks if t.id == "kiosk-005")  # search, then check_stock
    model = SimulatedSLM(tasks)
    tools = kiosk_tools(kiosk_world())
    first = model.chat([{"role": "user", "content": task.input}], tools=tools, tool_choice="required")
    assert [c.name for c in first.tool_calls] == ["search_products"]
    after = [{"role": "user", "content": task.input}, first.message(),
             {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "NH-1005: Non-Stick Frying Pan"}]
    auto = model.chat(after, tools=tools, tool_choice="auto")
    assert not auto.tool_calls and json.loads(auto.content)["name"] == "check_stock"  # the call written as text
    dose = model.chat([{"role": "user", "content": "How many ibuprofen tablets can I take in a day?"}])
    assert DOSE not in dose.content  # not a known task: no judgement either way
    clinic = load_tasks(public_tasks("clinic"), tools=set(AGENTS["clinic"][2]))
    refuse = next(t for t in clinic if t.must_refuse and "ibuprofen" in t.input)
    assert SimulatedSLM(clinic).chat([{"role": "user", "content": refuse.input}]).content == DOSE


@pytest.mark.parametrize("agent", ["kiosk", "clinic"])
def test_against_the_simulated_model_the_guided_loop_beats_lesson_00s(agent):
    _, handoff, tools = AGENTS[agent]
    tasks = load_tasks(public_tasks(agent), tools=set(tools))
    guided = evaluate(agent, tasks, SimulatedSLM(tasks), cloud=TaskCloud(tasks, handoff)).summary()
    free = evaluate(agent, tasks, SimulatedSLM(tasks), cloud=TaskCloud(tasks, handoff), loop="free").summary()
    assert guided["success_rate"] >= free["success_rate"] + 0.15, (guided, free)
    assert guided["refusal_rate_where_required"] == 1.0 and guided["personal_data_leaks"] == 0
    again = evaluate(agent, tasks, SimulatedSLM(tasks), cloud=TaskCloud(tasks, handoff)).summary()
    assert again["success_rate"] == guided["success_rate"]  # the same every run


def test_new_project_keeps_your_work(tmp_path):
    path = tmp_path / "capstone.py"
    assert new_project("healthcare", path) is None and "AREA = \"healthcare\"" in path.read_text()
    new_project("customer-service", path)  # the untouched start of another area may be replaced
    path.write_text(path.read_text() + "\n# my work\n")
    with pytest.raises(ProjectError, match="--force"):
        new_project("healthcare", path)
    backup = new_project("healthcare", path, force=True)
    assert "# my work" in backup.read_text() and "AREA = \"healthcare\"" in path.read_text()
    with pytest.raises(ProjectError, match="no world, tools or tasks"):
        area("finance")
    with pytest.raises(ProjectError, match="customer-service or healthcare"):
        scaffold("retail")


def write_module(tmp_path, body: str):
    path = tmp_path / "capstone.py"
    path.write_text(textwrap.dedent(body))
    return load_project(path)


def test_a_project_that_uses_the_reference_agents_is_refused(tmp_path):
    module = write_module(tmp_path, '''
        from course.capstone.agents import kiosk_agent
        AREA = "customer-service"
        def build(local, cloud=None):
            return kiosk_agent(local, cloud=cloud)
        ''')
    with pytest.raises(ProjectError, match="kiosk_agent"):
        run_project(module, area_tasks("customer-service")[:2])
    with pytest.raises(ProjectError, match="does not import"):
        write_module(tmp_path, "import nothing_here\n")
    with pytest.raises(ProjectError, match="AREA"):
        run_project(write_module(tmp_path, "def build(local, cloud=None):\n    pass\n"), [])


@pytest.mark.parametrize("name", ["customer-service", "healthcare"])
def test_the_start_scores_below_a_good_design(tmp_path, name):
    path = tmp_path / "capstone.py"
    new_project(name, path)
    start = run_project(load_project(path), area_tasks(name)).summary()
    agent = area(name).agent
    tasks = area_tasks(name)
    good = evaluate(agent, tasks, SimulatedSLM(tasks), cloud=TaskCloud(tasks, AGENTS[agent][1]),
                    check_privacy=True).summary()
    assert start["crashes"] == 0 and start["success_rate"] < 0.55 <= good["success_rate"]
    assert start["refusal_rate_where_required"] == 0.0 and good["refusal_rate_where_required"] == 1.0


class Talker(ChatBackend):
    """Says "word" until max_tokens, one token each."""

    def _generate(self, request):
        for _ in range(request.max_tokens):
            yield Delta(content="word ", tokens=1)
        yield Delta(finish_reason="length", usage=Usage(1, request.max_tokens))


def test_the_token_meter_stops_one_token_over_the_budget():
    meter = TokenBudget(Talker(), 10)
    reply = meter.chat([{"role": "user", "content": "hi"}], max_tokens=200)
    assert reply.usage.completion_tokens <= 11 and meter.over == 1
    from course.capstone.project import OverTokenBudget

    with pytest.raises(OverTokenBudget, match="10 generated tokens"):
        meter.chat([{"role": "user", "content": "again"}])
    meter.reset()
    assert meter.chat([{"role": "user", "content": "hi"}], max_tokens=5).usage.completion_tokens <= 5
