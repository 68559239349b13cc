"""Events of the notifications core, and the one it listens to from any module.

``messaging.notify_requested`` lets a module that must not depend on messaging ask for a
notification: its payload is a ``schemas.NotificationIn``; give it a ``source`` so that a
redelivered request is delivered once.
"""

from __future__ import annotations

from pydantic import BaseModel

NOTIFY_REQUESTED = "messaging.notify_requested"
NOTIFICATION_SENT = "messaging.notification.sent"
NOTIFICATION_READ = "messaging.notification.read"


class NotificationSent(BaseModel):
    """Stored and visible in the inbox; the external channels are planned from this event
    unless they were planned with the notification (``deliveries_planned``)."""

    notification_id: int
    category: str
    priority: str
    broadcast: bool
    recipient_count: int
    sender_id: int | None
    source: str | None
    # True when the external sends were planned with the notification (a few recipients).
    deliveries_planned: bool = False


class NotificationRead(BaseModel):
    notification_id: int
    person_id: int


INBOX_READ_ALL = "messaging.inbox.read_all"


class InboxReadAll(BaseModel):
    person_id: int
    count: int
