"""Events of instant messaging. Payloads carry ids, never message text."""

from __future__ import annotations

from pydantic import BaseModel

MESSAGE_SENT = "messaging.im.message_sent"
MESSAGE_RECALLED = "messaging.im.message_recalled"
GROUP_CHANGED = "messaging.im.group_changed"

# The hook of section groups: the academic module emits this when a teaching section's roster
# changes (or a section is created); chats keep one group per section with exactly these
# people (teachers as its admins). Payload ``SectionRoster``.
SECTION_ROSTER_CHANGED = "academic.section.roster_changed"


class MessageSent(BaseModel):
    conversation_id: int
    seq: int
    sender_id: int
    kind: str


class MessageRecalled(BaseModel):
    conversation_id: int
    seq: int
    by_id: int | None
    reason: str  # sender, moderator


class GroupChanged(BaseModel):
    conversation_id: int
    change: str  # created, renamed, announced, invited, removed, left, role, dissolved
    person_ids: list[int] = []


class SectionRoster(BaseModel):
    section_id: int
    name: str
    teacher_ids: list[int]
    student_ids: list[int]
    # False when the section is cancelled: its group is dissolved.
    active: bool = True
