"""Input and output of instant messaging: HTTP bodies and the WebSocket frames' payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ConversationKind = Literal["direct", "group", "class", "section"]
MessageKind = Literal["text", "image", "file", "system", "recall"]
MemberRole = Literal["owner", "admin", "member"]

TEXT_MAX = 4000
NAME_MAX = 60
ANNOUNCEMENT_MAX = 1000
GROUP_MAX_MEMBERS = 2000


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    seq: int
    sender_id: int | None
    sender_name: str = ""
    client_id: str | None = None
    kind: MessageKind
    text: str = ""
    file_id: str | None = None
    file_name: str = ""
    file_size: int = 0
    mentions: list[int] = []
    mention_all: bool = False
    ref_seq: int | None = None
    recalled: bool = False
    created_at: datetime


class MemberOut(BaseModel):
    person_id: int
    name: str
    role: MemberRole
    read_seq: int
    online: bool = False


class ConversationOut(BaseModel):
    id: int
    kind: ConversationKind
    name: str
    announcement: str = ""
    owner_id: int | None = None
    last_seq: int
    read_seq: int = 0
    joined_seq: int = 0
    unread: int = 0
    my_role: MemberRole = "member"
    muted: bool = False
    member_count: int = 0
    # The other person of a direct conversation.
    peer_id: int | None = None
    last_message: MessageOut | None = None
    last_message_at: datetime | None = None


class ConversationDetail(ConversationOut):
    members: list[MemberOut] = []


class SendIn(BaseModel):
    """A message to send (the WebSocket's ``send`` frame, or ``POST …/messages``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1, max_length=64, description="客户端消息标识：重发时不变，不会重复保存"
    )
    conversation_id: int | None = Field(default=None, ge=1)
    to: int | None = Field(default=None, ge=1, description="单聊对方（无会话 id 时）")
    kind: Literal["text", "image", "file"] = "text"
    text: str = Field(default="", max_length=TEXT_MAX)
    file_id: str | None = Field(default=None, max_length=64)
    mentions: list[int] = Field(default=[], max_length=50)
    mention_all: bool = False


class SendResult(BaseModel):
    message: MessageOut
    duplicate: bool = False
    # Members to deliver to (the sender's other devices included).
    recipients: list[int] = []


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX)
    members: list[int] = Field(min_length=1, max_length=500)


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    announcement: str | None = Field(default=None, max_length=ANNOUNCEMENT_MAX)


class MembersIn(BaseModel):
    members: list[int] = Field(min_length=1, max_length=500)


class RoleIn(BaseModel):
    role: Literal["admin", "member"]


class DirectIn(BaseModel):
    person_id: int = Field(ge=1)


class ReportIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class HistoryPage(BaseModel):
    items: list[MessageOut]
    # Pass as ``before`` for the next older page; None when nothing older is visible.
    next_before: int | None


class SearchHit(BaseModel):
    conversation_id: int
    conversation_name: str
    message: MessageOut


class ContactOut(BaseModel):
    person_id: int
    name: str
    unit: str = ""
    number: str | None = None
    online: bool = False


class RelationGroup(BaseModel):
    kind: str
    title: str
    pending: bool = False  # provided by a module not installed yet
    people: list[ContactOut] = []
