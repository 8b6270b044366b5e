"""Lesson 11's evaluation harness and reference agents, with fakes: task files checked line by line, calls
compared after normalising, every public task solvable by an agent that does what it expects, a useless agent
scoring nothing, the cloud cut without a crash, and personal data kept from the cloud and the audit log."""

from __future__ import annotations

import json

import pytest

from course.backends.fake import Endless, Reply, ScriptedBackend
from course.capstone.agents import AGENTS, clinic_agent, clinic_tools, clinic_world, kiosk_tools, kiosk_world
from course.capstone.cloud import TaskCloud
from course.capstone.evaluate import evaluate, offline_reliability, score
from course.capstone.tasks import (ExpectedCall, TaskFileError, call_matches, load_tasks, normalise, public_tasks,
                                   refused, tool_accuracy)

GOOD = {"id": "t-1", "input": "Do you have kettles?", "category": "search",
        "expected_tools": [{"name": "search_products", "arguments": {"query": "kettle"}}],
        "answer_checks": {"contains_any": ["kettle"], "contains_all": [], "not_contains": []},
        "forbidden_tools": [], "must_refuse": False, "must_handoff": False, "hard": False}


def write(tmp_path, *lines) -> str:
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_a_task_file_with_problems_names_every_one_with_its_line(tmp_path):
    bad = [GOOD, "{not json", {**GOOD, "id": "t-1"}, {k: v for k, v in GOOD.items() if k != "hard"},
           {**GOOD, "id": "t-4", "expected_tools": [{"name": "teleport", "arguments": {}}]},
           {**GOOD, "id": "t-5", "forbidden_tools": ["search_products"]}, {**GOOD, "id": "t-6", "extra": 1}]
    with pytest.raises(TaskFileError) as err:
        load_tasks(write(tmp_path, *bad), tools=set(AGENTS["kiosk"][2]))
    problems = err.value.problems
    assert problems[0].startswith("line 2: not JSON")
    assert "line 3: id 't-1' was used on line 1" in problems
    assert "line 4: missing hard" in problems
    assert any(p.startswith("line 5: expected_tools[0] names 'teleport'") for p in problems)
    assert "line 6: search_products is both expected and forbidden" in problems
    assert any(p.startswith("line 7: unknown key(s) extra") for p in problems)
    with pytest.raises(TaskFileError, match="does not exist"):
        load_tasks(tmp_path / "nope.jsonl")
    with pytest.raises(TaskFileError, match="empty"):
        load_tasks(write(tmp_path, ""))


@pytest.mark.parametrize("want,got,same", [
    ("kettle", "Kettles ", True), ("desk lamp", "Desk  Lamps", True), ("12", 12, True), (12.0, "12", True),
    ("S-0412", "s-0412", True), ("kettle", "toaster", False), ("2027-01-12", "2027-01-13", False),
])
def test_arguments_compare_after_normalising(want, got, same):
    assert (normalise(want) == normalise(got)) is same


def test_tool_accuracy_counts_each_call_once():
    expected = (ExpectedCall("check_stock", {"sku": "NH-1001"}), ExpectedCall("check_stock", {"sku": "NH-1002"}))
    assert tool_accuracy(expected, [("check_stock", {"sku": "nh-1001"})]) == 0.5
    assert tool_accuracy(expected, [("check_stock", {"sku": "NH-1001"})] * 2) == 0.5
    assert tool_accuracy((), []) == 1.0 and tool_accuracy((), [("store_hours", {})]) == 0.0
    assert not call_matches(expected[0], "get_price", {"sku": "NH-1001"})
    assert call_matches(ExpectedCall("search_products", {}), "search_products", {"query": "anything"})


def test_refusals_are_recognised():
    assert refused("I'm sorry, I cannot give doses; please ask a pharmacist.")
    assert refused("Please consult your doctor about that rash.")
    assert not refused("The kettle costs 24.99 EUR.")


def test_kiosk_tools_read_the_shipped_catalogue():
    tools = {t.name: t for t in kiosk_tools(kiosk_world())}
    assert "NH-1001" in tools["search_products"](query="kettles")
    assert tools["check_stock"](sku="nh-1001").endswith("in stock, aisle A3")
    assert "EUR" in tools["get_price"](sku="NH-1002") and "promotion" in tools["get_price"](sku="NH-1002")
    with pytest.raises(ValueError, match="call search_products"):
        tools["check_stock"](sku="NH-9999")
    assert tools["store_hours"](day="Sunday").startswith("sunday: ")


def test_clinic_bookings_stay_in_their_world_and_the_audit_log_holds_no_personal_data():
    world = clinic_world()
    tools = {t.name: t for t in clinic_tools(world)}
    taken = {b["slot_id"] for b in world.bookings.values()}
    slot = next(s for s in world.schedule["slots"] if s["slot_id"] not in taken)
    assert slot["slot_id"] in tools["find_slots"](department=slot["department"], date=slot["date"])
    booked = tools["book_appointment"](patient_id="49403136515", slot_id=slot["slot_id"])
    assert booked.startswith("booked B-")
    assert slot["slot_id"] not in tools["find_slots"](department=slot["department"], date=slot["date"])
    with pytest.raises(ValueError, match="not free"):
        tools["book_appointment"](patient_id="x", slot_id=slot["slot_id"])
    assert len(clinic_world().bookings) == len(world.bookings) - 1  # a fresh world for the next task
    agent, world = clinic_agent(ScriptedBackend([Reply("ok")]))
    (guarded,) = [t for t in agent.tools.values() if t.name == "book_appointment"]
    guarded.invoke({"patient_id": "Mari Tamm 49403136515 mari@post.example", "slot_id": slot["slot_id"]})
    (entry,) = world.audit.entries()
    assert "49403136515" not in entry.arguments and "mari@post.example" not in entry.arguments


@pytest.mark.parametrize("agent", ["kiosk", "clinic"])
def test_every_public_task_is_solved_by_an_agent_that_does_what_it_expects(agent):
    """The task set's own check: the expected calls exist, and what the tools return satisfies the answer's
    checks. The 'agent' here is the fake cloud used as the local model."""
    _, handoff, tools = AGENTS[agent]
    tasks = load_tasks(public_tasks(agent), tools=set(tools))
    report = evaluate(agent, tasks, TaskCloud(tasks, handoff))
    hard = {t.id for t in tasks if t.hard}
    failed = {x.id: x.failures for x in report.results if not x.success}
    # the fake only repeats what the tools said: a hard task whose answer needs arithmetic (a total) may fail
    # its answer check, nothing else
    assert all(i in hard and f == ["the answer misses what it should say (or says what it must not)"]
               for i, f in failed.items()) and len(failed) <= 2, failed
    assert report.summary()["tool_accuracy"] == 1.0 and report.summary()["personal_data_leaks"] == 0
    assert report.summary()["refusal_rate_where_required"] in (1.0, None)


def test_an_agent_that_knows_nothing_scores_little_and_the_cut_cloud_crashes_nothing():
    _, handoff, tools = AGENTS["kiosk"]
    tasks = load_tasks(public_tasks("kiosk"), tools=set(tools))
    useless = ScriptedBackend([Endless(Reply("I do not know."))])
    alone = evaluate("kiosk", tasks, useless).summary()
    assert alone["success_rate"] <= 0.2 and alone["crashes"] == 0
    cloud = TaskCloud(tasks, handoff)
    online = evaluate("kiosk", tasks, useless, cloud=cloud)
    cloud.online = False
    offline = evaluate("kiosk", tasks, useless, cloud=cloud)
    kept = offline_reliability(online, offline)
    assert online.summary()["success_hard"] > alone["success_hard"]  # the cloud answers the hard ones
    assert kept["crashes_offline"] == 0 and kept["success_offline"] == alone["success_rate"]
    assert online.summary()["cloud_calls"] > 0 and online.summary()["cloud_cost_usd"] > 0


def test_a_required_refusal_that_is_missing_fails_the_task():
    _, _, tools = AGENTS["clinic"]
    task = next(t for t in load_tasks(public_tasks("clinic"), tools=set(tools)) if t.must_refuse)
    ok, _, failures, did_refuse, _ = score(task, "Take two tablets every four hours.", [], "handoff_to_clinician")
    assert not ok and not did_refuse and "it had to refuse and did not" in failures


def test_text_arguments_match_when_every_expected_word_is_there():
    from course.capstone.tasks import value_matches

    assert value_matches("kettle", "Electric Kettles") and not value_matches("electric kettle", "kettle")
    assert value_matches("NH-1001", "nh-1001") and value_matches(12, "12") and not value_matches(12, "12 13")


def test_the_clinic_departments_are_the_schedules():
    from typing import get_args

    from course.capstone.agents import Department

    departments = {s["department"] for s in clinic_world().schedule["slots"]}
    assert set(get_args(Department)) == departments
