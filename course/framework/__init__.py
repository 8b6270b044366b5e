"""Lesson 09: the patterns of an agent framework, built on the course's agent loop.

- :mod:`.sessions`: conversation state in SQLite, one history per user and session;
- :mod:`.permissions`: a tool registry with role-based permissions and an audit log;
- :mod:`.orchestrator`: intent routing to specialists, fallback, hierarchical delegation;
- :mod:`.escalation`: an edge-cloud backend that degrades to the local model;
- :mod:`.config`: deployment files (single device, distributed edge) checked with clear errors;
- :mod:`.limits`: a cap on concurrent agents (the model cache is ``course serve``'s engine);
- :mod:`.monitoring`: metrics per agent and alert rules that act.
"""

from .config import DeploymentError, check_deployment, load_deployment, shipped_deployment
from .escalation import EdgeCloudBackend, RouteRecord
from .limits import AgentPool, Busy
from ..observability import percentile
from .monitoring import AlertRule, Monitor, switch_backend
from .orchestrator import Handled, IntentRouter, Orchestrator, Routing, Supervisor
from .permissions import AuditLog, PermissionDenied, Policy, ToolRegistry
from .sessions import PersistentAgent, SessionStore, SessionStoreError

__all__ = ["AgentPool", "AlertRule", "AuditLog", "Busy", "DeploymentError", "EdgeCloudBackend", "Handled",
           "IntentRouter", "Monitor", "Orchestrator", "PermissionDenied", "PersistentAgent", "Policy", "RouteRecord",
           "Routing", "SessionStore", "SessionStoreError", "Supervisor", "ToolRegistry", "check_deployment",
           "load_deployment", "percentile", "shipped_deployment", "switch_backend"]
