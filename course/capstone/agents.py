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
from typing import Any

from ..agent import Agent
from ..backends.base import ChatBackend
from ..backends.types import ChatRequest, ChatResponse, Delta
from ..framework.escalation import EdgeCloudBackend
from ..framework.permissions import AuditLog, ToolRegistry
from ..production.redact import Redactor
from ..tools import tool

DATA = Path(str(resources.files("course.capstone") / "data"))
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
                 if all(w in _words(f"{row[1]} {row[2]}") for w in wanted)]
        if not found:
            return f"no product matches {query!r}"
        return "\n".join(f"{sku}: {name} ({category}), {price:.2f} EUR, aisle {aisle}"
                         for sku, name, category, price, aisle in found[:8])

    def _product(sku: str) -> tuple:
        row = db.execute("SELECT name, price, stock, aisle, promotion FROM products WHERE sku = ?",
                         (sku.strip().upper(),)).fetchone()
        if row is None:
            raise ValueError(f"no product {sku!r}: search_products finds the SKU (like NH-1001)")
        return row

    @tool
    def check_stock(sku: str) -> str:
        """Units of a product (by SKU, like NH-1001) in stock in this store."""
        name, _, stock, aisle, _ = _product(sku)
        return f"{name}: {stock} in stock" + (f", aisle {aisle}" if stock else ", out of stock")

    @tool
    def get_price(sku: str) -> str:
        """The price of a product (by SKU, like NH-1001) and any promotion on it."""
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

HARD = re.compile(r"\b(compare|cheapest|cheaper|most expensive|difference|better|which of|recommend|all the|every)\b",
                  re.IGNORECASE)


def hard_question(messages: list[dict]) -> bool:
    """The escalation rule: a comparison, a recommendation or a long question goes to the cloud."""
    first = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    return bool(HARD.search(first)) or len(first.split()) > 24


def _with_cloud(local: ChatBackend, cloud: ChatBackend | None, redact: Callable[[str], str] | None = None,
                **kwargs: Any) -> ChatBackend:
    if cloud is None:
        return local
    if redact is not None:
        cloud = RedactingBackend(cloud, redact)
    return EdgeCloudBackend(local, cloud, escalate=hard_question, **kwargs)


def kiosk_agent(local: ChatBackend, *, cloud: ChatBackend | None = None, world: World | None = None,
                max_steps: int = 4, max_tokens: int = 96, answer_after: int | None = 2) -> tuple[Agent, World]:
    """The kiosk agent on ``local`` (with ``cloud`` for hard questions); returns it with its world."""
    world = world or kiosk_world()
    agent = Agent(_with_cloud(local, cloud), kiosk_tools(world), instructions=KIOSK_INSTRUCTIONS,
                  max_steps=max_steps, max_tokens=max_tokens, answer_after=answer_after)
    return agent, world


# -- the clinic --------------------------------------------------------------------------------------------------


def clinic_world() -> World:
    """The schedule with its bookings (a slot is free when no booking holds it), the leaflets, an audit log."""
    leaflets = {p.stem: p.read_text(encoding="utf-8") for p in sorted((DATA / "leaflets").glob("*.md"))}
    schedule = _load_json("clinic_schedule.json")
    bookings = {b["booking_id"]: {"patient_id": b["patient_id"], "slot_id": b["slot_id"]}
                for b in schedule.get("bookings", [])}
    return World(schedule=schedule, leaflets=leaflets, bookings=bookings,
                 audit=AuditLog(redact=Redactor().redact))  # personal data never reaches the log


def clinic_tools(world: World) -> list:
    slots = {s["slot_id"]: s for s in world.schedule["slots"]}

    @tool
    def find_slots(department: str, date: str) -> str:
        """Free appointment slots of a department (family doctor, nurse, laboratory, ...) on a date (YYYY-MM-DD)."""
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
        """Book a free slot (like S-0412) for a patient; returns the booking id."""
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
        """Cancel a booking by its id (like B-0001)."""
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


class RedactingBackend(ChatBackend):
    """Another backend, sent each message with personal data taken out first (before it leaves the device)."""

    def __init__(self, inner: ChatBackend, redact: Callable[[str], str]):
        super().__init__()
        self.inner, self.redact = inner, redact
        self.name, self.model = inner.name, inner.model
        self.sent: list[list[dict]] = []  # what left, for the checks

    def _generate(self, request: ChatRequest):
        messages = [{**m, "content": self.redact(m["content"])} if isinstance(m.get("content"), str) else m
                    for m in request.messages]
        self.sent.append(messages)
        reply: ChatResponse = self.inner.chat(messages, tools=request.tools or None, tool_choice=request.tool_choice,
                                              temperature=request.temperature, max_tokens=request.max_tokens)
        if reply.content:
            yield Delta(content=reply.content, tokens=reply.usage.completion_tokens)
        yield Delta(tool_calls=list(reply.tool_calls), finish_reason=reply.finish_reason, usage=reply.usage)


def clinic_agent(local: ChatBackend, *, cloud: ChatBackend | None = None, world: World | None = None,
                 max_steps: int = 4, max_tokens: int = 96, user: str = "front-desk",
                 answer_after: int | None = 2) -> tuple[Agent, World]:
    """The clinic agent; every tool call goes through an audited registry, and the cloud sees redacted text."""
    world = world or clinic_world()
    redactor = Redactor()
    registry = ToolRegistry({"desk": {"tools": list(CLINIC_TOOLS)}}, world.audit)
    registry.register(*clinic_tools(world))
    agent = Agent(_with_cloud(local, cloud, redactor.redact), registry.tools_for(user, "desk"),
                  instructions=CLINIC_INSTRUCTIONS, max_steps=max_steps, max_tokens=max_tokens,
                  answer_after=answer_after)
    return agent, world


AGENTS: dict[str, tuple[Callable[..., tuple[Agent, World]], str, tuple[str, ...]]] = {
    "kiosk": (kiosk_agent, "handoff_to_human", KIOSK_TOOLS),
    "clinic": (clinic_agent, "handoff_to_clinician", CLINIC_TOOLS),
}
