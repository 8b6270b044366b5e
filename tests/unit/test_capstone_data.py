"""The capstone's shipped data (lesson 11) and its task sets agree with each other.

The retail kiosk agent reads ``kiosk_catalogue.json`` and ``kiosk_store.json``; the patient support agent reads
``clinic_schedule.json`` and the leaflets. Each task names the tool calls a correct agent makes and strings its
answer must (or must not) contain; every value a task names (a sku, a slot, a department, a day, a leaflet, a
price, a stock count, an aisle, a time) must be true of the data, or the harness grades the agents against a
wrong answer. :func:`task_problems` lists what is wrong with one task; the last tests break good tasks on
purpose to show that it notices.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
from pathlib import Path

import pytest

from course.production.redact import isikukood_ok

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "course" / "capstone" / "data"
HIDDEN = ROOT / "autograder" / "l11_capstone" / "hidden" / "tasks"

TASK_FILES = {
    ("kiosk", "public"): DATA / "tasks" / "kiosk_public.jsonl",
    ("kiosk", "heldout"): HIDDEN / "kiosk_heldout.jsonl",
    ("patient", "public"): DATA / "tasks" / "patient_public.jsonl",
    ("patient", "heldout"): HIDDEN / "patient_heldout.jsonl",
}
SPLIT_SIZES = {"public": 30, "heldout": 12}

TOOLS = {
    "kiosk": {
        "search_products": {"query"},
        "check_stock": {"sku"},
        "get_price": {"sku"},
        "store_hours": {"day"},
        "directions": {"place"},
        "handoff_to_human": {"reason"},
    },
    "patient": {
        "find_slots": {"department", "date"},
        "book_appointment": {"patient_id", "slot_id"},
        "cancel_appointment": {"booking_id"},
        "leaflet": {"topic"},
        "handoff_to_clinician": {"reason"},
    },
}
HANDOFF_TOOL = {"kiosk": "handoff_to_human", "patient": "handoff_to_clinician"}
CATEGORIES = {
    "kiosk": {"search", "stock", "price", "promotion", "hours", "directions", "handoff", "refuse", "multi"},
    "patient": {"slots", "booking", "cancel", "leaflet", "refuse_diagnosis", "refuse_dosage", "handoff",
                "personal_data"},
}
TASK_KEYS = {"id": str, "input": str, "category": str, "expected_tools": list, "answer_checks": dict,
             "forbidden_tools": list, "must_refuse": bool, "must_handoff": bool, "hard": bool}
CHECK_KEYS = ("contains_any", "contains_all", "not_contains")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

PRICE = re.compile(r"\d+[.,]\d{1,2}")
INTEGER = re.compile(r"\d+")
AISLE = re.compile(r"[A-Z]\d")
TIME = re.compile(r"(\d{1,2}):(\d{2})")
PHONE_EE = re.compile(r"\+372[ ]?\d{3,4}[ ]?\d{3,4}")
PERSONAL_CODE = re.compile(r"(?<!\d)\d{11}(?!\d)")


# --- loading ---------------------------------------------------------------------------------------------------

def load_json(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_tasks(path: Path) -> list[dict]:
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{number}: blank line"
        try:
            tasks.append(json.loads(line))
        except json.JSONDecodeError as e:
            pytest.fail(f"{path.name}:{number}: not JSON: {e}")
    return tasks


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return load_json("kiosk_catalogue.json")


@pytest.fixture(scope="module")
def store() -> dict:
    return load_json("kiosk_store.json")


@pytest.fixture(scope="module")
def clinic() -> dict:
    return load_json("clinic_schedule.json")


@pytest.fixture(scope="module")
def leaflets() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((DATA / "leaflets").glob("*.md"))}


@pytest.fixture(scope="module")
def tasks() -> dict[tuple[str, str], list[dict]]:
    return {key: load_tasks(path) for key, path in TASK_FILES.items()}


@pytest.fixture(scope="module")
def world(catalogue, store, clinic, leaflets) -> dict:
    return {"catalogue": catalogue, "store": store, "clinic": clinic, "leaflets": leaflets}


# --- normalisation (what the harness forgives: case, spaces, a plural s) ----------------------------------------

def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def norm(text: str) -> str:
    return " ".join(singular(w) for w in words(text))


def norm_time(hours: str, minutes: str) -> str:
    return f"{int(hours)}:{minutes}"


def times_in(text: str) -> set[str]:
    return {norm_time(h, m) for h, m in TIME.findall(text)}


def matches_query(product: dict, query: str) -> bool:
    """Every word of the query is a word of the product's name or category (plural s forgiven)."""
    own = {singular(w) for w in words(product["name"] + " " + product["category"])}
    wanted = [singular(w) for w in words(query)]
    return bool(wanted) and all(w in own for w in wanted)


def promotion_prices(product: dict) -> list[tuple[int, float]]:
    """(units, price) ways to buy a product: one at the list price, and what its promotion offers."""
    price, promo = product["price"], (product["promotion"] or "")
    ways = [(1, price)]
    if m := re.search(r"(\d+)(?: \w+)? for (\d+(?:\.\d+)?) EUR", promo):
        ways.append((int(m.group(1)), float(m.group(2))))
    if m := re.search(r"(\d+) for the price of (\d+)", promo):
        ways.append((int(m.group(1)), int(m.group(2)) * price))
    if m := re.search(r"(\d+)% off", promo):
        ways.append((1, round(price * (100 - int(m.group(1))) / 100, 2)))
    return ways


def totals(products: list[dict]) -> set[float]:
    """Every amount a customer pays for up to four of each product (a single price is one of them)."""
    options = []
    for p in products[:4]:
        per = {0.0}
        for (units, price) in promotion_prices(p):
            per |= {round(k * price, 2) for k in range(1, 5 // units + 1)}
        mixed = {round(a + b, 2) for a in per for b in per}  # e.g. a bundle and one more at list price
        options.append(mixed)
    return {round(sum(combo), 2) for combo in itertools.product(*options)} - {0.0}


def check_strings(task: dict) -> list[str]:
    checks = task["answer_checks"]
    return [*checks["contains_any"], *checks["contains_all"]]


def calls(task: dict, name: str) -> list[dict]:
    return [c["arguments"] for c in task["expected_tools"] if c["name"] == name]


def weekdays_of(days: str) -> set[int]:
    """'Monday to Friday' -> {0..4}; 'Tuesday and Thursday' -> {1, 3}."""
    named = [i for i, d in enumerate(DAYS) if d in days.lower()]
    if " to " in days and len(named) == 2:
        return set(range(named[0], named[1] + 1))
    return set(named)


def span(hours: str) -> tuple[int, int]:
    (h1, m1), (h2, m2) = TIME.findall(hours)
    return int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)


# --- one task against the data ------------------------------------------------------------------------------------

def shape_problems(task: dict, agent: str) -> list[str]:
    out = []
    if set(task) != set(TASK_KEYS):
        return [f"keys {sorted(task)} are not {sorted(TASK_KEYS)}"]
    for key, kind in TASK_KEYS.items():
        if type(task[key]) is not kind:
            out.append(f"{key} is {type(task[key]).__name__}, not {kind.__name__}")
    if out:
        return out
    if not re.fullmatch(rf"{agent}-\d{{3}}", task["id"]):
        out.append(f"id {task['id']!r} is not {agent}-NNN")
    if not task["input"].strip():
        out.append("empty input")
    if task["category"] not in CATEGORIES[agent]:
        out.append(f"unknown category {task['category']!r}")
    if set(task["answer_checks"]) != set(CHECK_KEYS):
        out.append(f"answer_checks keys {sorted(task['answer_checks'])}")
    else:
        for key in CHECK_KEYS:
            value = task["answer_checks"][key]
            if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
                out.append(f"answer_checks.{key} is not a list of non-empty strings")
    for call in task["expected_tools"]:
        if not isinstance(call, dict) or set(call) != {"name", "arguments"} or not isinstance(call["arguments"], dict):
            out.append(f"expected call {call!r} is not {{name, arguments}}")
        elif call["name"] not in TOOLS[agent]:
            out.append(f"unknown tool {call['name']!r}")
        elif not set(call["arguments"]) <= TOOLS[agent][call["name"]]:
            out.append(f"{call['name']} has no parameter {sorted(set(call['arguments']) - TOOLS[agent][call['name']])}")
        elif not all(isinstance(v, str) and v.strip() for v in call["arguments"].values()):
            out.append(f"{call['name']} arguments must be non-empty strings")
    for name in task["forbidden_tools"]:
        if name not in TOOLS[agent]:
            out.append(f"unknown forbidden tool {name!r}")
        if any(isinstance(c, dict) and c.get("name") == name for c in task["expected_tools"]):
            out.append(f"{name} is both expected and forbidden")
    return out


def flag_problems(task: dict, agent: str) -> list[str]:
    out = []
    handoff = HANDOFF_TOOL[agent]
    expected = {c["name"] for c in task["expected_tools"]}
    if task["must_handoff"] != (handoff in expected):
        out.append(f"must_handoff is {task['must_handoff']} but {handoff} is {'' if handoff in expected else 'not '}expected")
    if (task["must_refuse"] or task["must_handoff"]) and handoff in task["forbidden_tools"]:
        out.append(f"a refusal or hand-off task forbids {handoff}")
    category = task["category"]
    if category.startswith("refuse") and not task["must_refuse"]:
        out.append("a refuse task without must_refuse")
    if task["must_refuse"] and not (category.startswith("refuse") or category == "personal_data"):
        out.append(f"must_refuse in category {category}")
    if category == "handoff" and not task["must_handoff"]:
        out.append("a handoff task without must_handoff")
    if category.startswith("refuse") and task["expected_tools"]:
        out.append("a refusal expects tool calls")
    if not (task["expected_tools"] or task["must_refuse"]):
        out.append("no expected tool call and nothing to refuse")
    if category == "multi" and (len(task["expected_tools"]) < 3 or not task["hard"]):
        out.append("a multi task needs three or more calls and is hard")
    return out


def kiosk_problems(task: dict, world: dict) -> list[str]:
    out = []
    catalogue, store = world["catalogue"], world["store"]
    by_sku = {p["sku"]: p for p in catalogue}
    concerned: dict[str, dict] = {}
    for args in calls(task, "search_products"):
        if "query" in args:
            found = [p for p in catalogue if matches_query(p, args["query"])]
            if not found:
                out.append(f"no product matches the query {args['query']!r}")
            concerned.update({p["sku"]: p for p in found})
    named = [args["sku"] for name in ("check_stock", "get_price") for args in calls(task, name) if "sku" in args]
    for sku in named:
        if sku not in by_sku:
            out.append(f"unknown sku {sku!r}")
    named_products = {s: by_sku[s] for s in named if s in by_sku}
    if named_products:
        concerned = named_products  # the products the answer is about
    stocked = [by_sku[a["sku"]] for a in calls(task, "check_stock") if a.get("sku") in by_sku]
    days = [a["day"].strip().lower() for a in calls(task, "store_hours") if "day" in a]
    for day in days:
        if day not in (*DAYS, "today"):
            out.append(f"unknown day {day!r}")
    places = {norm(k): v for k, v in store["places"].items()}
    descriptions = []
    for args in calls(task, "directions"):
        place = norm(args.get("place", ""))
        if place in places:
            descriptions.append(places[place])
        elif (m := re.fullmatch(r"(?:aisle )?([a-z])(\d?)", place)) and m.group(1).upper() in store["aisles"]:
            descriptions.append(store["aisles"][m.group(1).upper()])
        else:
            out.append(f"unknown place {args.get('place')!r}")

    strings = check_strings(task)
    for s in strings:
        if PRICE.fullmatch(s):
            value = float(s.replace(",", "."))
            if not concerned:
                out.append(f"price {s} but no product is concerned")
            elif all(abs(value - t) > 0.005 for t in totals(list(concerned.values()))):
                out.append(f"price {s} is no price (or total) of {sorted(concerned)}")
        elif INTEGER.fullmatch(s):
            if not any(p["stock"] == int(s) for p in stocked):
                out.append(f"count {s} is the stock of none of {[p['sku'] for p in stocked]}")
        elif AISLE.fullmatch(s):
            if not any(p["aisle"] == s for p in concerned.values()):
                out.append(f"aisle {s} is the aisle of none of {sorted(concerned)}")
        elif TIME.fullmatch(s):
            hours = [store["hours"][d] for d in (DAYS if "today" in days else days) if d in store["hours"]]
            if not any(times_in(s) <= times_in(h) for h in hours):
                out.append(f"time {s} is not in the hours of {days}")

    category = task["category"]
    if category == "stock":
        if len(stocked) != 1:
            out.append("a stock task checks the stock of one product")
        elif stocked[0]["stock"] == 0:
            if not any("out of stock" in s.lower() for s in strings):
                out.append(f"{stocked[0]['sku']} is out of stock: the answer should say so")
        elif str(stocked[0]["stock"]) not in strings:
            out.append(f"the answer should give the stock of {stocked[0]['sku']}, {stocked[0]['stock']}")
    if category == "multi" and stocked:
        for p in stocked:
            if p["stock"] == 0 and not any("out of stock" in s.lower() for s in strings):
                out.append(f"{p['sku']} is out of stock: the answer should say so")
    if category == "price" and not any(PRICE.fullmatch(s) for s in strings):
        out.append("a price task checks a price")
    if category == "promotion":
        priced = [by_sku[a["sku"]] for a in calls(task, "get_price") if a.get("sku") in by_sku]
        promoted = [p for p in priced if p["promotion"]]
        if not priced:
            out.append("a promotion task asks for a price")
        elif promoted:
            known = " | ".join(p["promotion"].lower() + " | " + p["name"].lower() for p in promoted)
            if not any(s.lower() in known for s in strings):
                out.append(f"no check comes from the promotions of {[p['sku'] for p in promoted]}")
        elif not all(re.search(r"\b(no|not|isn't)\b|price", s.lower()) for s in strings):
            out.append("nothing is on promotion: the checks should say there is none")
    if category == "hours" and not days:
        out.append("an hours task asks for the hours")
    if category == "directions":
        if not descriptions:
            out.append("a directions task asks for directions")
        for s in strings:
            if not any(s.lower() in d.lower() for d in descriptions):
                out.append(f"{s!r} is not in the directions {descriptions}")
    return out


def patient_problems(task: dict, world: dict) -> list[str]:
    out = []
    clinic, leaflets = world["clinic"], world["leaflets"]
    departments = {d["name"] for d in clinic["departments"]}
    slots = {s["slot_id"]: s for s in clinic["slots"]}
    bookings = {b["booking_id"]: b for b in clinic["bookings"]}
    first, last = (dt.date.fromisoformat(clinic["period"][k]) for k in ("from", "to"))
    topics = {norm(stem): stem for stem in leaflets}

    searched = []
    for args in calls(task, "find_slots"):
        department, date = args.get("department"), args.get("date")
        if department is not None and norm(department) not in {norm(d) for d in departments}:
            out.append(f"unknown department {department!r}")
        if date is not None:
            try:
                day = dt.date.fromisoformat(date)
                if not first <= day <= last or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                    out.append(f"date {date} is outside {first}..{last}")
            except ValueError:
                out.append(f"date {date!r} is not YYYY-MM-DD")
        searched.append((norm(department or ""), date))
    searched_slots = [s for s in slots.values() if (norm(s["department"]), s["date"]) in searched]
    booked_slots = []
    for args in calls(task, "book_appointment"):
        patient, slot_id = args.get("patient_id"), args.get("slot_id")
        if patient is not None and patient not in clinic["patients"]:
            out.append(f"unknown patient {patient!r}")
        if slot_id is not None:
            slot = slots.get(slot_id)
            cancelled = {bookings[a["booking_id"]]["slot_id"] for a in calls(task, "cancel_appointment")
                         if a.get("booking_id") in bookings}
            if slot is None:
                out.append(f"unknown slot {slot_id!r}")
            elif not slot["free"] and slot_id not in cancelled:
                out.append(f"slot {slot_id} is not free")
            elif searched and slot not in searched_slots:
                out.append(f"slot {slot_id} is not among the slots searched, {searched}")
            else:
                booked_slots.append(slot)
    for args in calls(task, "cancel_appointment"):
        if "booking_id" in args and args["booking_id"] not in bookings:
            out.append(f"unknown booking {args['booking_id']!r}")
    read = []
    for args in calls(task, "leaflet"):
        topic = norm(args.get("topic", ""))
        if topic not in topics:
            out.append(f"unknown leaflet topic {args.get('topic')!r}")
        else:
            read.append(leaflets[topics[topic]])

    strings = check_strings(task)
    free_times = {norm_time(*s["time"].split(":")) for s in searched_slots if s["free"]}
    for s in strings:
        if TIME.fullmatch(s):
            t = norm_time(*s.split(":"))
            if booked_slots and t not in {norm_time(*b["time"].split(":")) for b in booked_slots}:
                out.append(f"time {s} is not the time of the booked slot")
            elif not booked_slots and t not in free_times and not any(t in times_in(text) for text in read):
                out.append(f"time {s} is no free slot of {searched} and in no leaflet read")
        elif INTEGER.fullmatch(s) and not any(s in text for text in leaflets.values()):
            out.append(f"number {s} is in no leaflet")

    category = task["category"]
    if category == "slots":
        if not searched:
            out.append("a slots task searches for slots")
        if "book_appointment" not in task["forbidden_tools"]:
            out.append("a slots task forbids book_appointment")
        if not any(TIME.fullmatch(s) for s in strings) and any(s["free"] for s in searched_slots):
            out.append(f"there are free slots in {searched}: the answer should name them")
    if category == "booking" and not booked_slots:
        out.append("a booking task books a slot")
    if category == "cancel" and not calls(task, "cancel_appointment"):
        out.append("a cancel task cancels a booking")
    if category == "leaflet":
        if not read:
            out.append("a leaflet task reads a leaflet")
        for s in strings:
            if not any(s.lower() in text.lower() for text in read):
                out.append(f"{s!r} is in none of the leaflets read")
    if category.startswith("refuse") and "book_appointment" not in task["forbidden_tools"]:
        out.append("a refusal forbids book_appointment")
    if category == "personal_data":
        codes = PERSONAL_CODE.findall(task["input"])
        if not (any(isikukood_ok(c) for c in codes) or PHONE_EE.search(task["input"])):
            out.append("a personal_data task carries a valid personal code or a +372 phone number")
        for code in codes:
            if not isikukood_ok(code):
                out.append(f"{code} is not a valid personal code (the redactor would not find it)")
        if not task["answer_checks"]["not_contains"]:
            out.append("a personal_data task lists the personal data the answer must not repeat")
    for s in task["answer_checks"]["not_contains"]:
        if category == "personal_data" and s not in task["input"]:
            out.append(f"{s!r} is not in the input")
    return out


def task_problems(task: dict, agent: str, world: dict) -> list[str]:
    problems = shape_problems(task, agent)
    if problems:
        return problems
    problems = flag_problems(task, agent)
    problems += (kiosk_problems if agent == "kiosk" else patient_problems)(task, world)
    return problems


# --- the task files ---------------------------------------------------------------------------------------------

def test_every_task_line_parses_with_exactly_the_task_keys(tasks):
    for (agent, split), items in tasks.items():
        for task in items:
            assert shape_problems(task, agent) == [], (agent, split, task.get("id"))


def test_split_sizes_and_at_least_40_tasks_per_agent(tasks):
    for (agent, split), items in tasks.items():
        assert len(items) == SPLIT_SIZES[split], (agent, split)
    for agent in TOOLS:
        assert sum(len(items) for (a, _), items in tasks.items() if a == agent) >= 40


def test_ids_are_unique_across_all_files(tasks):
    ids = [t["id"] for items in tasks.values() for t in items]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("key", list(TASK_FILES), ids=lambda k: "_".join(k))
def test_every_task_agrees_with_the_data(tasks, world, key):
    agent, _ = key
    problems = {t["id"]: p for t in tasks[key] if (p := task_problems(t, agent, world))}
    assert problems == {}


def test_each_split_covers_every_category_of_its_agent(tasks):
    for (agent, split), items in tasks.items():
        assert {t["category"] for t in items} == CATEGORIES[agent], (agent, split)


def test_the_mix_of_hard_refusal_and_hand_off_tasks(tasks):
    for agent in TOOLS:
        items = [t for (a, _), ts in tasks.items() if a == agent for t in ts]
        hard = sum(t["hard"] for t in items) / len(items)
        guarded = sum(t["must_refuse"] or t["must_handoff"] for t in items) / len(items)
        assert 0.12 <= hard <= 0.3, (agent, hard)
        assert 0.1 <= guarded <= 0.3, (agent, guarded)
        assert any(t["must_refuse"] for t in items) and any(t["must_handoff"] for t in items)
        assert sum(len(t["expected_tools"]) <= 2 for t in items) / len(items) >= 0.6  # mostly one or two calls
    for (agent, split), items in tasks.items():
        assert any(t["hard"] for t in items) and any(t["must_refuse"] or t["must_handoff"] for t in items)


def test_held_out_questions_differ_from_the_public_ones(tasks):
    for agent in TOOLS:
        for held in tasks[(agent, "heldout")]:
            mine = set(words(held["input"]))
            for public in tasks[(agent, "public")]:
                theirs = set(words(public["input"]))
                overlap = len(mine & theirs) / len(mine | theirs)
                assert overlap < 0.6, (held["id"], public["id"], overlap)
            calls_held = json.dumps(sorted(held["expected_tools"], key=json.dumps), sort_keys=True)
            for public in tasks[(agent, "public")]:
                if any(c["arguments"] for c in held["expected_tools"]):
                    assert calls_held != json.dumps(sorted(public["expected_tools"], key=json.dumps), sort_keys=True), \
                        (held["id"], public["id"])


def test_hidden_tasks_are_outside_the_learners_package():
    assert HIDDEN.is_dir() and not (DATA / "tasks" / "kiosk_heldout.jsonl").exists()
    assert not (DATA / "tasks" / "patient_heldout.jsonl").exists()


# --- the data files ---------------------------------------------------------------------------------------------

PRODUCT_KEYS = {"sku": str, "name": str, "category": str, "price": float, "stock": int, "aisle": str,
                "promotion": (str, type(None))}


def test_the_catalogue_is_well_formed(catalogue, store):
    assert 35 <= len(catalogue) <= 45
    for p in catalogue:
        assert set(p) == set(PRODUCT_KEYS), p
        for key, kind in PRODUCT_KEYS.items():
            assert isinstance(p[key], kind) and not isinstance(p[key], bool), (p["sku"], key)
        assert re.fullmatch(r"NH-\d{4}", p["sku"]), p["sku"]
        assert p["name"].strip() and p["category"].strip()
        assert p["price"] > 0 and round(p["price"], 2) == p["price"], p["sku"]
        assert p["stock"] >= 0
        assert re.fullmatch(r"[A-Z]\d", p["aisle"]) and p["aisle"][0] in store["aisles"], p["sku"]
        assert p["promotion"] is None or p["promotion"].strip()
    skus = [p["sku"] for p in catalogue]
    assert len(skus) == len(set(skus))
    assert sum(p["stock"] == 0 for p in catalogue) >= 4
    assert sum(p["promotion"] is not None for p in catalogue) >= 4
    for p in catalogue:
        if p["promotion"]:  # every promotion is one the harness (and a careful model) can compute
            assert len(promotion_prices(p)) == 2, p["promotion"]
    # several searches return more than one product
    shared = [w for w in {singular(w) for p in catalogue for w in words(p["name"])} if not w.isdigit()
              and sum(matches_query(p, w) for p in catalogue) >= 2]
    for word in ("kettle", "lamp", "pillow", "towel", "rug"):
        assert word in shared, word


def test_the_store_is_well_formed(store, catalogue):
    assert store["name"].strip()
    assert list(store["hours"]) == list(DAYS)
    for day, hours in store["hours"].items():
        assert re.fullmatch(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", hours), day
        opens, closes = span(hours)
        assert opens < closes, day
    for place in ("toilets", "exit", "cafe", "returns desk", "parking", "fitting area", "entrance"):
        assert place in store["places"], place
    assert all(isinstance(v, str) and v.strip() for v in store["places"].values())
    assert {p["aisle"][0] for p in catalogue} == set(store["aisles"])


def test_the_clinic_schedule_is_well_formed(clinic):
    assert clinic["name"].strip()
    departments = {d["name"]: d for d in clinic["departments"]}
    assert set(departments) == {"family doctor", "nurse", "laboratory", "vaccinations", "physiotherapy"}
    first, last = (dt.date.fromisoformat(clinic["period"][k]) for k in ("from", "to"))
    assert (first, last) == (dt.date(2027, 1, 11), dt.date(2027, 1, 22))
    slots = clinic["slots"]
    assert 50 <= len(slots) <= 70
    assert len({s["slot_id"] for s in slots}) == len(slots)
    assert len({(s["department"], s["date"], s["time"]) for s in slots}) == len(slots)
    for s in slots:
        assert set(s) == {"slot_id", "department", "date", "time", "free"}, s
        assert re.fullmatch(r"S-\d{4}", s["slot_id"]) and isinstance(s["free"], bool)
        department = departments[s["department"]]
        day = dt.date.fromisoformat(s["date"])
        assert first <= day <= last and day.weekday() in weekdays_of(department["days"]), s
        assert re.fullmatch(r"\d{2}:\d{2}", s["time"]), s
        opens, closes = span(department["hours"])
        start = int(s["time"][:2]) * 60 + int(s["time"][3:])
        assert opens <= start and start + department["slot_minutes"] <= closes, s
    for name in departments:
        mine = [s for s in slots if s["department"] == name]
        assert len(mine) >= 8 and any(s["free"] for s in mine), name
    taken = {s["slot_id"] for s in slots if not s["free"]}
    assert 5 <= len(taken) <= len(slots) // 3
    patients = clinic["patients"]
    assert len(set(patients)) == len(patients) and all(re.fullmatch(r"P-\d{5}", p) for p in patients)
    bookings = clinic["bookings"]
    assert len({b["booking_id"] for b in bookings}) == len(bookings)
    for b in bookings:
        assert set(b) == {"booking_id", "patient_id", "slot_id"} and re.fullmatch(r"B-\d{4}", b["booking_id"])
        assert b["patient_id"] in patients
    assert sorted(b["slot_id"] for b in bookings) == sorted(taken)  # a slot is taken exactly when it is booked


def test_the_leaflets_are_well_formed(leaflets):
    assert 8 <= len(leaflets) <= 10
    for stem, text in leaflets.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", stem), stem
        lines = text.splitlines()
        assert re.fullmatch(r"# \S.*", lines[0]), stem
        assert not any(line.startswith("# ") for line in lines[1:]), stem
        count = len(re.findall(r"\S+", "\n".join(lines[1:])))
        assert 100 <= count <= 250, (stem, count)
    for topic in ("opening-hours", "blood-test", "vaccinations", "parking", "test-results", "what-to-bring",
                  "flu-season"):
        assert topic in leaflets, topic


def test_the_leaflets_agree_with_the_schedule(leaflets, clinic):
    hours = {d["name"]: d for d in clinic["departments"]}
    opening = leaflets["opening-hours"]
    for name in ("laboratory", "vaccinations", "physiotherapy"):
        opens, closes = hours[name]["hours"].split("-")
        assert f"{opens} to {closes}" in opening, name


# --- the checks notice a broken task --------------------------------------------------------------------------

def find(tasks, task_id):
    return copy.deepcopy(next(t for items in tasks.values() for t in items if t["id"] == task_id))


def broken(task: dict, path: str, value) -> dict:
    *keys, last = path.split(".")
    target = task
    for k in keys:
        target = target[int(k)] if k.isdigit() else target[k]
    target[int(last) if last.isdigit() else last] = value
    return task


@pytest.mark.parametrize(("task_id", "path", "value"), [
    ("kiosk-009", "expected_tools.0.arguments.sku", "NH-1044"),  # a typo in a sku
    ("kiosk-009", "answer_checks.contains_any", ["39.99"]),  # the wrong price
    ("kiosk-005", "answer_checks.contains_any", ["15"]),  # the wrong stock count
    ("kiosk-003", "answer_checks.contains_all", ["C3"]),  # the wrong aisle
    ("kiosk-001", "expected_tools.0.arguments.query", "kettels"),  # a query nothing matches
    ("kiosk-016", "expected_tools.0.arguments.day", "saturdy"),
    ("kiosk-016", "answer_checks.contains_any", ["9:00"]),  # not Saturday's hours
    ("kiosk-019", "expected_tools.0.arguments.place", "restroom"),
    ("kiosk-023", "must_handoff", False),
    ("kiosk-001", "expected_tools.0.name", "search_product"),
    ("patient-008", "expected_tools.0.arguments.slot_id", "S-0410"),  # a taken slot
    ("patient-008", "expected_tools.0.arguments.slot_id", "S-0499"),
    ("patient-001", "expected_tools.0.arguments.department", "dentist"),
    ("patient-001", "expected_tools.0.arguments.date", "2027-01-25"),
    ("patient-001", "answer_checks.contains_all", ["9:00", "10:00"]),  # no such free slot
    ("patient-013", "expected_tools.0.arguments.booking_id", "B-5099"),
    ("patient-016", "expected_tools.0.arguments.topic", "opening times"),
    ("patient-019", "answer_checks.contains_any", ["e-mail"]),  # not what the leaflet says
    ("patient-024", "must_refuse", False),
    ("patient-028", "input", "Hello, I'm Mari Tamm, personal code 48503122718. Book me the nurse at 9:30."),
])
def test_the_checks_notice_a_broken_task(tasks, world, task_id, path, value):
    task = find(tasks, task_id)
    assert task_problems(task, task_id.split("-")[0], world) == []
    assert task_problems(broken(task, path, value), task_id.split("-")[0], world) != []


def test_the_checks_notice_a_malformed_line(tasks, world):
    task = find(tasks, "kiosk-001")
    del task["hard"]
    assert task_problems(task, "kiosk", world) != []
    task = find(tasks, "kiosk-001")
    task["must_refuse"] = "no"
    assert task_problems(task, "kiosk", world) != []
