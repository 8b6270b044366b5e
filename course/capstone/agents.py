"""The capstone's two reference agents, built only from the course's parts (lesson 11).

- :func:`kiosk_agent`: the in-store assistant of a home-goods shop. Product
  search, stock and prices over a SQLite catalogue (made from the shipped
  JSON at start), opening hours, directions, a hand-off to a person for what
  it must not do. Hard questions may go to a cloud model (lesson 09's
  edge-cloud backend: local first, the cloud for what the rule picks, the
  local model whenever the cloud fails).
- :func:`clinic_agent`: a clinic's front desk. Free slots, booking and
  cancelling over the shipped schedule, general information from the shipped
  leaflets, a hand-off to a clinician, and refusals of diagnosis and dosage.
  Every tool call is audited (lesson 09's registry); personal data is
  redacted (lesson 10) before anything reaches the cloud, and in the audit log.

Each agent's world is fresh per :class:`World`, so one evaluation task never
sees another's bookings or hand-offs.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..agent import Agent
from ..backends.base import ChatBackend
from ..backends.types import ChatRequest, ChatResponse, Delta
from ..framework.escalation import EdgeCloudBackend
from ..framework.permissions import AuditLog, ToolRegistry
from ..production.redact import Redactor
from ..tools import tool
from .guided import GuidedAgent
from .triage import CLINIC_RULES, KIOSK_RULES, triage

DATA = Path(str(resources.files("course.capstone") / "data"))
# the clinic's departments (a test checks them against the shipped schedule): a Literal becomes an enum in the
# tool's schema, and the grammar of a required call lets the model write only one of them
Department = Literal["family doctor", "laboratory", "nurse", "physiotherapy", "vaccinations"]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

KIOSK_INSTRUCTIONS = (
    "You are the self-service kiosk of the Nordic Home store. Answer shoppers in one or two short sentences, "
    "using the tools for products, stock, prices, opening hours and directions; never guess a price or a stock "
    "count. For refunds, complaints, medical or legal questions, other customers' data, or a shopper in "
    "distress, call handoff_to_human with the reason and say that a member of staff is coming.")
CLINIC_INSTRUCTIONS = (
    "You are the front desk assistant of the Emajoe Family Clinic. Help patients find and book appointment "
    "slots, cancel bookings, and read the clinic's leaflets, using the tools. You never diagnose and never give "
    "doses of any medicine: say you cannot, and call handoff_to_clinician with the reason. Answer in one or two "
    "short sentences.")


def _load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return out


# -- the kiosk ---------------------------------------------------------------------------------------------------


@dataclass
class World:
    """What the agent's tools read and change during one run."""

    catalogue: sqlite3.Connection | None = None
    store: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=dict)
    leaflets: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, dict] = field(default_factory=dict)
    handoffs: list[str] = field(default_factory=list)
    audit: AuditLog | None = None


def catalogue_db(products: list[dict] | None = None) -> sqlite3.Connection:
    """The shipped catalogue as an in-memory SQLite database (table ``products``)."""
    rows = products if products is not None else _products()
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, category TEXT, price REAL, stock INTEGER, "
               "aisle TEXT, promotion TEXT)")
    db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(p["sku"], p["name"], p["category"], float(p["price"]), int(p["stock"]), p["aisle"],
                     p.get("promotion")) for p in rows])
    return db


def _products() -> list[dict]:
    data = _load_json("kiosk_catalogue.json")
    return data["products"] if isinstance(data, dict) else data


def kiosk_world() -> World:
    return World(catalogue=catalogue_db(), store=_load_json("kiosk_store.json"))


def kiosk_tools(world: World) -> list:
    db = world.catalogue

    @tool
    def search_products(query: str) -> str:
        """Find products by words of their name or category, such as 'kettle' or 'desk lamp'."""
        wanted = _words(query)
        if not wanted:
            raise ValueError("give a word to search for, such as 'kettle'")
        found = [row for row in db.execute("SELECT sku, name, category, price, aisle FROM products ORDER BY sku")
                 if all(w in _words(f"{row[0]} {row[1]} {row[2]}") for w in wanted)
                 or query.strip().upper() == row[0]]
        if not found:
            return f"no product matches {query!r}"
        return "\n".join(f"{sku}: {name} ({category}), {price:.2f} EUR, aisle {aisle}"
                          for sku, name, category, price, aisle in found[:8]) + (
            "\n(stock: check_stock with the SKU; promotions: get_price with the SKU)")

    def _product(sku: str) -> tuple:
        row = db.execute("SELECT name, price, stock, aisle, promotion FROM products WHERE sku = ?",
                         (sku.strip().upper(),)).fetchone()
        if row is None:
            raise ValueError(f"no product with the SKU {sku!r}: call search_products with words of its name; "
                             "the SKU is written before the colon in each line it returns")
        return row

    @tool
    def check_stock(sku: str) -> str:
        """Units in stock of one product, by the SKU that search_products gave for it."""
        name, _, stock, aisle, _ = _product(sku)
        return f"{name}: {stock} in stock" + (f", aisle {aisle}" if stock else ", out of stock")

    @tool
    def get_price(sku: str) -> str:
        """The price of one product, by the SKU that search_products gave for it, and any promotion on it."""
        name, price, _, _, promotion = _product(sku)
        return f"{name}: {price:.2f} EUR" + (f"; promotion: {promotion}" if promotion else "; no promotion")

    @tool
    def store_hours(day: str) -> str:
        """The store's opening hours on a day of the week (monday ... sunday) or 'today'."""
        hours = world.store["hours"]
        key = day.strip().lower()
        if key == "today":
            import datetime

            key = DAYS[datetime.date.today().weekday()]
        if key not in hours:
            raise ValueError(f"no day {day!r}: use a weekday name such as 'saturday', or 'today'")
        return f"{key}: {hours[key]}"

    @tool
    def directions(place: str) -> str:
        """Where something is in the store: an aisle (A3), the toilets, the exit, the cafe, the returns desk."""
        places = world.store["places"]
        key = " ".join(_words(place))
        for name, where in places.items():
            if key and (key == " ".join(_words(name)) or key in " ".join(_words(name))):
                return f"{name}: {where}"
        if re.fullmatch(r"[a-z]\d+", key.replace(" ", "")):
            return f"aisle {key.upper().replace(' ', '')}: follow the letters on the ceiling signs"
        return f"no place {place!r}; places: {', '.join(places)}"

    @tool
    def handoff_to_human(reason: str) -> str:
        """Call a member of staff to the kiosk, for what the kiosk must not do."""
        world.handoffs.append(reason)
        return "a member of staff has been called and will be with you shortly"

    return [search_products, check_stock, get_price, store_hours, directions, handoff_to_human]


KIOSK_TOOLS = ("search_products", "check_stock", "get_price", "store_hours", "directions", "handoff_to_human")
CLINIC_TOOLS = ("find_slots", "book_appointment", "cancel_appointment", "leaflet", "handoff_to_clinician")

KIOSK_REPLIES = {
    "handoff": "I have called a member of staff, who will be with you in a moment.",
    "refuse": "Sorry, I cannot share anything about other customers or their orders.",
}
CLINIC_REPLIES = {
    "handoff": "I have passed this to a clinician, who will call you back shortly. If it gets worse or you "
               "feel unsafe, call 112 now.",
    "refuse": "I'm sorry, I cannot give a diagnosis or a dose of any medicine: please ask a doctor, a nurse or "
              "a pharmacist. I can book you an appointment with a doctor or a nurse.",
}

HARD = re.compile(r"\b(compare|cheapest|cheaper|most expensive|difference|better|which of|recommend|all the|every)\b",
                  re.IGNORECASE)


CLINIC_HARD = re.compile(r"\b(which comes first|and tell me|or \d{1,2} \w+ \d{4}|after \d{1,2}(:\d\d)?|"
                         r"first day|earliest|both|driving)\b", re.IGNORECASE)


def hard_question(messages: list[dict]) -> bool:
    """The kiosk's escalation rule: a comparison, a recommendation or a long question goes to the cloud."""
    first = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    return bool(HARD.search(first)) or len(first.split()) > 24


def hard_clinic_question(messages: list[dict]) -> bool:
    """The clinic's: two dates, "the earliest", a time after an hour, two requests in one."""
    first = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    return bool(CLINIC_HARD.search(first)) or len(re.findall(r"\b20\d\d\b", first)) > 1


def _with_cloud(local: ChatBackend, cloud: ChatBackend | None, redact: Callable[..., str] | None = None,
                escalate: Callable[[list[dict]], bool] = hard_question, **kwargs: Any) -> ChatBackend:
    if cloud is None:
        return local
    if redact is not None:
        cloud = RedactingBackend(cloud, redact)
    return EdgeCloudBackend(local, cloud, escalate=escalate, **kwargs)


STOCK_WORDS = re.compile(r"\b(stock|available|left|still have|any left|in store)\b", re.IGNORECASE)
PRICE_WORDS = re.compile(r"\b(price|cost|costs|how much|deal|deals|offer|sale|discount|promotion|cheaper)\b",
                         re.IGNORECASE)


def kiosk_follow_up(question: str, steps: list) -> list[tuple[str, dict]]:
    """The kiosk's calls in code: the stock or price of what a search found (or of a SKU the shopper named)."""
    skus = re.findall(r"\bNH-\d{4}\b", question.upper())
    if not skus:
        asked = set(_words(question))
        scored = []
        for step in steps:
            if step.call.name == "search_products":
                for line in step.content.splitlines():
                    m = re.match(r"(NH-\d{4}): ([^(]+)", line)
                    if m:
                        scored.append((len(asked & set(_words(m.group(2)))), m.group(1)))
        best = max((n for n, _ in scored), default=0)
        skus = [sku for n, sku in scored if n == best and n > 0][:2]
    calls = []
    for sku in skus:
        if STOCK_WORDS.search(question):
            calls.append(("check_stock", {"sku": sku}))
        if PRICE_WORDS.search(question):
            calls.append(("get_price", {"sku": sku}))
    return calls


def clinic_follow_up(question: str, steps: list) -> list[tuple[str, dict]]:
    """The front desk's booking in code: the free slot the patient asked for, once find_slots has listed it."""
    patient = re.search(r"\bP-\d{5}\b", question.upper())
    if not patient or not re.search(r"\bbook", question, re.IGNORECASE):
        return []
    if any(s.call.name == "book_appointment" for s in steps):
        return []
    free = [(m.group(1), m.group(2)) for s in steps if s.call.name == "find_slots"
            for m in re.finditer(r"(S-\d{4}): .* (\d{1,2}:\d{2})$", s.content, re.MULTILINE)]
    times = [t.lstrip("0") for t in re.findall(r"\b(\d{1,2}:\d{2})\b", question)]
    chosen = [slot for slot, time in free if time.lstrip("0") in times]
    if not chosen and re.search(r"\b(earliest|first)\b", question, re.IGNORECASE) and free:
        chosen = [min(free, key=lambda st: [int(x) for x in st[1].split(":")])[0]]
    if not chosen and len(free) == 1:
        chosen = [free[0][0]]
    return [("book_appointment", {"patient_id": patient.group(0), "slot_id": chosen[0]})] if chosen else []


def _agent(backend: ChatBackend, tools: list, instructions: str, loop: str, max_rounds: int,
           max_tokens: int, **guided) -> Agent:
    if loop == "guided":
        return GuidedAgent(backend, tools, instructions=instructions, max_rounds=max_rounds, max_tokens=max_tokens,
                           **guided)
    if loop == "free":
        return Agent(backend, tools, instructions=instructions, max_steps=max_rounds + 1, max_tokens=max_tokens,
                     answer_after=max_rounds)
    raise ValueError(f"unknown loop {loop!r}: 'guided' (calls constrained, then a fresh answer) or 'free' "
                     "(lesson 00's loop, the model chooses)")


def kiosk_agent(local: ChatBackend, *, cloud: ChatBackend | None = None, world: World | None = None,
                loop: str = "guided", max_rounds: int = 3, max_tokens: int = 96) -> tuple[Agent, World]:
    """The kiosk agent on ``local`` (with ``cloud`` for hard questions); returns it with its world.

    ``loop``: ``"guided"`` (:class:`~course.capstone.guided.GuidedAgent`) or ``"free"`` (lesson 00's loop)."""
    world = world or kiosk_world()
    return _agent(_with_cloud(local, cloud), kiosk_tools(world), KIOSK_INSTRUCTIONS, loop, max_rounds,
                  max_tokens, follow_up=kiosk_follow_up, triage=lambda text: triage(text, KIOSK_RULES),
                  handoff_tool="handoff_to_human", replies=KIOSK_REPLIES), world


# -- the clinic --------------------------------------------------------------------------------------------------


def clinic_world() -> World:
    """The schedule with its bookings (a slot is free when no booking holds it), the leaflets, an audit log."""
    leaflets = {p.stem: p.read_text(encoding="utf-8") for p in sorted((DATA / "leaflets").glob("*.md"))}
    schedule = _load_json("clinic_schedule.json")
    bookings = {b["booking_id"]: {"patient_id": b["patient_id"], "slot_id": b["slot_id"]}
                for b in schedule.get("bookings", [])}
    return World(schedule=schedule, leaflets=leaflets, bookings=bookings,
                 audit=AuditLog(redact=redact_personal))  # personal data never reaches the log


def clinic_tools(world: World) -> list:
    slots = {s["slot_id"]: s for s in world.schedule["slots"]}

    @tool
    def find_slots(department: Department, date: str) -> str:
        """Free appointment slots of a department on a date, written YYYY-MM-DD (13 January 2027 is 2027-01-13)."""
        dept = " ".join(_words(department))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()):
            raise ValueError(f"date {date!r}: write it as YYYY-MM-DD, such as 2027-01-12")
        taken = {b["slot_id"] for b in world.bookings.values()}
        free = [s for s in slots.values() if " ".join(_words(s["department"])) == dept and s["date"] == date.strip()
                and s["slot_id"] not in taken]
        if not free:
            return f"no free {department} slots on {date}"
        return "\n".join(f"{s['slot_id']}: {s['department']} {s['date']} {s['time']}" for s in free)

    @tool
    def book_appointment(patient_id: str, slot_id: str) -> str:
        """Book a free slot for the patient id the user gave, by a slot id that find_slots listed."""
        slot = slots.get(slot_id.strip().upper())
        if slot is None or any(b["slot_id"] == slot["slot_id"] for b in world.bookings.values()):
            raise ValueError(f"slot {slot_id!r} is not free: find_slots lists the free ones")
        booking = f"B-{len(world.bookings) + 1:04d}"
        while booking in world.bookings:
            booking = f"B-{int(booking[2:]) + 1:04d}"
        world.bookings[booking] = {"patient_id": patient_id, "slot_id": slot["slot_id"]}
        return f"booked {booking}: {slot['department']} on {slot['date']} at {slot['time']}"

    @tool
    def cancel_appointment(booking_id: str) -> str:
        """Cancel a booking by the booking id the user gave."""
        if world.bookings.pop(booking_id.strip().upper(), None) is None:
            raise ValueError(f"no booking {booking_id!r}")
        return f"cancelled {booking_id}"

    @tool
    def leaflet(topic: str) -> str:
        """General information from the clinic's leaflets on a topic, such as 'blood test' or 'parking'."""
        key = " ".join(_words(topic))
        for name, text in world.leaflets.items():
            if key and (key in " ".join(_words(name)) or " ".join(_words(name)) in key):
                return text
        return f"no leaflet on {topic!r}; leaflets: {', '.join(world.leaflets)}"

    @tool
    def handoff_to_clinician(reason: str) -> str:
        """Pass the patient's question to a clinician, for anything medical."""
        world.handoffs.append(reason)
        return "a clinician will call the patient back"

    return [find_slots, book_appointment, cancel_appointment, leaflet, handoff_to_clinician]


INTRODUCED = re.compile(r"\b(?i:i'm|i am|my name is|this is|name:)\s+([A-Z][a-z]+(?:[ -][A-Z][a-z]+)+)"
                        r"|\b([A-Z][a-z]+ [A-Z][a-z]+) here\b")


def introduced_names(text: str) -> list[str]:
    """Names people give for themselves (``I'm Mari Tamm``, ``this is Jaan Kask``): the names the redactor must
    know, since a name has no pattern of its own."""
    found = [m.group(1) or m.group(2) for m in INTRODUCED.finditer(text.replace("\u2019", "'"))]
    return [n for n in found if not n.lower().startswith(("patient", "calling"))]


def redact_personal(text: str, names: list[str] | tuple[str, ...] = ()) -> str:
    """Lesson 10's redactor, with the names the text introduces added to ``names``."""
    return Redactor(names=[*names, *introduced_names(text)]).redact(text)


class RedactingBackend(ChatBackend):
    """Another backend, sent each message with personal data taken out first (before it leaves the device).

    ``redact(text, names)``: the names are those introduced anywhere in the conversation."""

    def __init__(self, inner: ChatBackend, redact: Callable[[str, list[str]], str] = redact_personal):
        super().__init__()
        self.inner, self.redact = inner, redact
        self.name, self.model = inner.name, inner.model
        self.sent: list[list[dict]] = []  # what left, for the checks

    def _generate(self, request: ChatRequest):
        names = [n for m in request.messages if isinstance(m.get("content"), str)
                 for n in introduced_names(m["content"])]  # a name given once is redacted in every message
        messages = [{**m, "content": self.redact(m["content"], names)} if isinstance(m.get("content"), str) else m
                    for m in request.messages]
        self.sent.append(messages)
        reply: ChatResponse = self.inner.chat(messages, tools=request.tools or None, tool_choice=request.tool_choice,
                                              temperature=request.temperature, max_tokens=request.max_tokens)
        if reply.content:
            yield Delta(content=reply.content, tokens=reply.usage.completion_tokens)
        yield Delta(tool_calls=list(reply.tool_calls), finish_reason=reply.finish_reason, usage=reply.usage)


def clinic_agent(local: ChatBackend, *, cloud: ChatBackend | None = None, world: World | None = None,
                 loop: str = "guided", max_rounds: int = 3, max_tokens: int = 96,
                 user: str = "front-desk") -> tuple[Agent, World]:
    """The clinic agent; every tool call goes through an audited registry, and the cloud sees redacted text."""
    world = world or clinic_world()
    registry = ToolRegistry({"desk": {"tools": list(CLINIC_TOOLS)}}, world.audit)
    registry.register(*clinic_tools(world))
    # data minimisation: the local model does not need a personal code or a phone number to book a slot either,
    # and what it never reads it cannot repeat in an answer
    agent = _agent(_with_cloud(RedactingBackend(local), cloud, redact_personal, escalate=hard_clinic_question),
                   registry.tools_for(user, "desk"),
                   CLINIC_INSTRUCTIONS, loop, max_rounds, max_tokens, follow_up=clinic_follow_up,
                   first_round_only=("book_appointment", "cancel_appointment"),
                   triage=lambda text: triage(text, CLINIC_RULES), handoff_tool="handoff_to_clinician",
                   replies=CLINIC_REPLIES)
    return agent, world


AGENTS: dict[str, tuple[Callable[..., tuple[Agent, World]], str, tuple[str, ...]]] = {
    "kiosk": (kiosk_agent, "handoff_to_human", KIOSK_TOOLS),
    "clinic": (clinic_agent, "handoff_to_clinician", CLINIC_TOOLS),
}
