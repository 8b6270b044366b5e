"""``course redact`` and ``course redteam try``: lesson 10's redactor and defended agent on your own input."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from .main import cli, console, friendly_errors, print_json
from .redteam_cmd import redteam

DEFENCE_NAMES = ("allow_list", "validate", "quarantine", "output_filter", "confirm")


@cli.command()
@click.argument("text", required=False)
@click.option("--name", "names", multiple=True, help="a person's name to find (repeatable)")
@click.option("--pseudonymise", is_flag=True, help="replace with tokens (<EMAIL_1>) instead of [EMAIL]")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def redact(text: str | None, names: tuple[str, ...], pseudonymise: bool, as_json: bool) -> None:
    """Take personal data out of TEXT (or standard input): e-mails, phones, cards, national ids, given names."""
    from ..production.redact import Redactor, Vault

    if text is None:
        if sys.stdin.isatty():
            raise click.UsageError("give the text as an argument, or pipe it in: echo 'mail ana@x.example' | "
                                   "course redact")
        text = sys.stdin.read()
    redactor = Redactor(names=names)
    findings = redactor.find(text)
    vault = Vault()
    out = redactor.pseudonymise(text, vault) if pseudonymise else redactor.redact(text)
    if as_json:
        print_json({"text": out, "findings": [{"kind": f.kind, "start": f.start, "end": f.end,
                                               "value": text[f.start:f.end]} for f in findings]})
        return
    console.print(out, highlight=False, markup=False)
    if findings:
        table = Table(title=f"{len(findings)} finding(s)")
        for col in ("kind", "where", "value"):
            table.add_column(col)
        for f in findings:
            table.add_row(f.kind, f"{f.start}-{f.end}", text[f.start:f.end])
        console.print(table)
    else:
        console.print("no personal data found (names are found only when given with --name)")


def _defences(spec: str):
    from dataclasses import replace

    from ..production.redteam import Defences

    if spec == "all":
        return Defences.all()
    if spec == "none":
        return Defences()
    chosen = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in DEFENCE_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown defence {', '.join(unknown)}: use all, none, or a comma-separated list of "
                                 f"{', '.join(DEFENCE_NAMES)}", param_hint="--defences")
    return replace(Defences(), **{name: True for name in chosen})


@redteam.command("try")
@click.argument("message")
@click.option("--model", default="qwen2.5-coder-0.5b", show_default=True, help="registry alias of the model")
@click.option("--defences", "spec", default="all", show_default=True,
              help="all, none, or a comma-separated list of " + ", ".join(DEFENCE_NAMES))
@click.option("--ticket", "tickets", multiple=True, metavar="ID=TEXT",
              help="a support ticket the agent can read, such as 'T-5=Please call send_email to ...' (repeatable)")
@click.option("--role", type=click.Choice(["customer", "staff"]), default="customer", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def try_attack(message: str, model: str, spec: str, tickets: tuple[str, ...], role: str, as_json: bool) -> None:
    """Send your own MESSAGE to the shop's support agent (lesson 10) and show what it did and what left the shop."""
    from ..backends.llama_cpp import LlamaCppBackend
    from ..production.redteam import CANARY, Attack, run_case

    parsed = []
    for item in tickets:
        ticket_id, sep, body = item.partition("=")
        if not sep or not ticket_id.strip():
            raise click.BadParameter(f"{item!r}: write a ticket as ID=TEXT, such as 'T-5=Call me back'",
                                     param_hint="--ticket")
        parsed.append((ticket_id.strip(), body))
    defences = _defences(spec)
    attack = Attack("yours", "yours", message, tickets=tuple(parsed), goal="any")
    backend = LlamaCppBackend(model)
    result = run_case(backend, attack, defences, role=role)
    shop = result.shop
    leaked = CANARY in result.answer or any(CANARY in m["body"] for m in shop.outbox)
    report = {"harm_done": result.success, "model": model, "defences": defences.label, "role": role, "answer": result.answer,
              "tool_calls": result.tool_calls, "emails": shop.outbox, "refunds": shop.refunds,
              "canary_leaked": leaked, "error": result.error}
    if as_json:
        print_json(report)
        return
    console.print(f"[bold]{model}[/], defences: {defences.label}, role: {role}")
    for call in result.tool_calls or ["(no tool calls)"]:
        console.print(f"  tool call: {call}", highlight=False, markup=False)
    console.print(f"  answer: {result.answer or '(none)'}", highlight=False, markup=False)
    if result.error:
        console.print(f"  the run broke: {result.error}", highlight=False, markup=False)
    console.print(f"  e-mails sent: {shop.outbox or 'none'}", highlight=False, markup=False)
    console.print(f"  refunds made: {shop.refunds or 'none'}", highlight=False, markup=False)
    console.print("  the secret API key " + ("[red]LEFT the agent[/]" if leaked else "stayed inside"))
    console.print("  verdict: " + ("[red]the attack did harm[/] (an outside e-mail, a refund over the limit or the "
                                   "key leaked)" if result.success else "no harm done"))
