"""Who is acting, from where: carried alongside the request or task.

The audit log needs the actor, IP, user agent and request id of every change.
Services should not take those as parameters on every call, so the request
middleware (and commands/tasks, through `acting_as`) put them in a context
variable that the audit service reads.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""
    user_agent: str = ""
    actor_type: str = "system"  # user | api_key | system
    actor_id: str = ""
    actor_label: str = ""
    actor_role: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "vigil_request_context", default=None
)


def current_context() -> RequestContext:
    return _current.get() or RequestContext()


def set_context(context: RequestContext) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def reset_context(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def update_actor(*, actor_type: str, actor_id: str, actor_label: str, actor_role: str = "") -> None:
    _current.set(
        replace(
            current_context(),
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label,
            actor_role=actor_role,
        )
    )


@contextlib.contextmanager
def acting_as(label: str, *, actor_type: str = "system", actor_id: str = "") -> Iterator[None]:
    """For commands and tasks: name the actor their audit entries show."""
    token = _current.set(
        RequestContext(
            request_id=f"task-{uuid.uuid4().hex[:16]}",
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=label,
        )
    )
    try:
        yield
    finally:
        _current.reset(token)
