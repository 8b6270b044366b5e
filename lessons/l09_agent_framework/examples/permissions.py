"""Tools with permissions and an audit trail: least privilege twice, every decision recorded.

Fakes only. A viewer may look orders up; a clerk inherits that and may also
refund. The model is only *offered* the tools its role allows, and each call is
checked again when it runs, so a model that names a tool it was never given, or
code that calls the registry directly, is refused and the refusal is logged.
"""

from course.agent import Agent
from course.backends import Reply, ScriptedBackend
from course.backends.fake import CallTool
from course.framework import PermissionDenied, ToolRegistry
from course.tools import tool


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order.

    Args:
        order_id: the order number.
    """
    return f"order {order_id}: shipped"


@tool
def refund_order(order_id: str) -> str:
    """Refund an order.

    Args:
        order_id: the order number.
    """
    if order_id == "0":
        raise ValueError("there is no order 0")
    return f"order {order_id}: refunded"


policy = {"viewer": {"tools": ["lookup_*"]},
          "clerk": {"tools": ["refund_order"], "inherits": ["viewer"]}}
registry = ToolRegistry(policy)
registry.register(lookup_order, refund_order)

for role in ("viewer", "clerk", "intruder"):
    offered = [t.name for t in registry.tools_for("someone", role)]
    print(f"{role:8} is offered {offered}")

# 1. a clerk's agent refunds: the call goes through the registry and is logged
clerk_model = ScriptedBackend([CallTool("refund_order", {"order_id": "7"}), Reply("Order 7 is refunded.")])
result = Agent(clerk_model, registry.tools_for("bo", "clerk")).run("Refund order 7")
print("bo (clerk):", result.answer)

# 2. a viewer's model asks for refund_order anyway: it was never offered, so the loop refuses it
viewer_model = ScriptedBackend([CallTool("refund_order", {"order_id": "7"}), Reply("I cannot refund orders.")])
result = Agent(viewer_model, registry.tools_for("ana", "viewer")).run("Refund order 7")
print("ana (viewer): the model was told:", result.trace.tool_steps[0].content)
print("ana (viewer):", result.answer)

# 3. code that skips the agent and calls the registry directly is checked too
for user, role, name, args in [("ana", "viewer", "refund_order", {"order_id": "7"}),
                               ("eve", "intruder", "lookup_order", {"order_id": "1"}),
                               ("bo", "clerk", "delete_everything", {}),
                               ("bo", "clerk", "refund_order", {"order_id": "0"})]:
    try:
        registry.call(user, role, name, args)
    except PermissionDenied as exc:
        print(f"refused: {exc}")
    except ValueError as exc:
        print(f"allowed, but the tool failed: {exc}")

print("audit log:")
for e in registry.audit.entries():
    print(f"  {e.user:4} {e.role:8} {e.tool:17} {e.arguments:17} {e.decision:7} {e.outcome:6} {e.detail}")
print(f"denied entries: {len(registry.audit.entries(decision='denied'))}")
