"""Events of subscription push. Payloads carry what a consumer needs without asking back (the
Web Push handler sends from ``PostPublished`` alone, apart from the devices to send to)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

ACCOUNT_CREATED = "messaging.account_created"
ACCOUNT_UPDATED = "messaging.account_updated"
ACCOUNT_SUBSCRIBED = "messaging.account_subscribed"
ACCOUNT_UNSUBSCRIBED = "messaging.account_unsubscribed"
POST_PUBLISHED = "messaging.post_published"
# A moderator's decision on a report took a published post down (readers no longer see it).
POST_HIDDEN = "messaging.post_hidden"


class AccountChanged(BaseModel):
    account_id: int
    code: str
    name: str
    active: bool
    mandatory: dict[str, list[int] | list[str]] | None


class SubscriptionChanged(BaseModel):
    account_id: int
    person_id: int


class PostPublished(BaseModel):
    post_id: int
    account_id: int
    account_name: str
    title: str
    summary: str
    url: str
    published_at: datetime
    # Whether the account's mandatory rule adds people beyond its subscription rows.
    mandatory: bool


class PostHidden(BaseModel):
    post_id: int
    account_id: int
    moderator_id: int
    note: str = ""
