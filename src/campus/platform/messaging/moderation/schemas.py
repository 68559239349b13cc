"""Input and output of moderation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from campus.kernel.pagination import Page

WordLevel = Literal["block", "mask"]
ReportStatus = Literal["pending", "removed", "dismissed"]


class Screened(BaseModel):
    """A text after the sensitive-word filter: ``ok`` is False when a blocking word is in it;
    ``text`` has every hit masked as ＊; ``hits`` are the words found (each once)."""

    ok: bool
    text: str
    hits: list[str]


class WordIn(BaseModel):
    words: list[str] = Field(min_length=1, max_length=500, description="一行一个或多个词")
    level: WordLevel = "block"


class WordOut(BaseModel):
    id: int
    word: str
    level: WordLevel
    created_at: datetime


class WordPage(Page[WordOut]):
    pass


class ReportIn(BaseModel):
    target_kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+\.[a-z_]+$")
    target_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class ReportOut(BaseModel):
    id: int
    reporter_id: int
    reporter_name: str = ""
    target_kind: str
    target_id: str
    reason: str
    excerpt: str
    link: str | None
    author_id: int | None
    author_name: str = ""
    status: ReportStatus
    moderator_id: int | None
    decision_note: str
    decided_at: datetime | None
    created_at: datetime
    # How many people reported the same content.
    reports_on_target: int = 1


class ReportPage(Page[ReportOut]):
    pass


class Decision(BaseModel):
    action: Literal["remove", "dismiss"]
    note: str = Field(default="", max_length=300)


class BlockOut(BaseModel):
    person_id: int
    name: str
    created_at: datetime


class RetentionIn(BaseModel):
    days: int = Field(ge=0, le=3650, description="聊天消息保留天数，0 表示永久保留")


class ReportDecided(BaseModel):
    """Payload of ``messaging.report.decided``: the module owning the content acts on it."""

    report_ids: list[int]
    target_kind: str
    target_id: str
    action: Literal["remove", "dismiss"]
    moderator_id: int
    note: str = ""
    # True when the module owning the content decided it itself (``settle_reports``) and has
    # already acted: that module's handler ignores it, so a decision never echoes back.
    by_owner: bool = False
