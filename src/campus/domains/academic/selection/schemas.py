"""Input and output of course selection (选课)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from campus.domains.academic.offering.schemas import SectionOut
from campus.kernel.i18n import _

RoundKind = Literal["lottery", "first_come", "add_drop"]
Place = Literal["selected", "waitlisted", "preferred", "lost", "dropped"]
QUEUE_RATE_MAX = 10_000  # students admitted a second at most (more is no queue at all)
HELD = ("selected", "waitlisted", "preferred")  # places that count against clashes and credits
ROUND_KINDS: dict[str, str] = {
    "lottery": str(_("预选（抽签）")),
    "first_come": str(_("正选（先到先得）")),
    "add_drop": str(_("补退选")),
}
PLACES: dict[str, str] = {
    "selected": str(_("已选中")),
    "waitlisted": str(_("候补中")),
    "preferred": str(_("已预选，待抽签")),
    "lost": str(_("未中签")),
    "dropped": str(_("已退选")),
}


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    term_id: int
    name: str = Field(min_length=1, max_length=60)
    kind: RoundKind
    opens_at: datetime
    closes_at: datetime
    grades: list[int] = Field(default_factory=list, max_length=12)
    major_ids: list[int] = Field(default_factory=list, max_length=500)
    max_credits: Decimal = Field(gt=0, le=60, decimal_places=1)
    waitlist: bool = True
    drop_allowed: bool = True
    queue_rate: int | None = Field(default=None, ge=1, le=QUEUE_RATE_MAX)  # admitted per second

    @model_validator(mode="after")
    def _closes_after_opening(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise ValueError(str(_("结束时间应晚于开始时间")))
        return self


class QueueRateIn(BaseModel):
    """A round's new queue rate: students admitted per second; ``null`` switches the queue off."""

    model_config = ConfigDict(extra="forbid")

    queue_rate: int | None = Field(ge=1, le=QUEUE_RATE_MAX)


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    term_id: int
    name: str
    kind: RoundKind
    opens_at: datetime
    closes_at: datetime
    grades: list[int]
    major_ids: list[int]
    max_credits: Decimal
    waitlist: bool
    drop_allowed: bool
    queue_rate: int | None = None
    settled_at: datetime | None


class PlaceOut(BaseModel):
    """A student's place in a section."""

    section_id: int
    section_code: str
    section_name: str
    course_id: int
    credits: Decimal
    status: Place
    source: str
    queued_at: datetime
    waitlist_position: int | None = None  # 1 for the head of the queue


class SelectAnswer(BaseModel):
    """What a selection request got: a seat, a place on the waitlist, or a lottery wish."""

    section_id: int
    status: Place
    waitlist_position: int | None = None
    replayed: bool = False  # the same idempotency key was answered before: nothing changed


class SectionSeats(BaseModel):
    section_id: int
    capacity: int
    taken: int
    waitlisted: int

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.taken)


class OfferOut(BaseModel):
    """A section open to selection, with its places as the database has them."""

    section: SectionOut
    selected: int
    waitlisted: int
    preferred: int

    @property
    def remaining(self) -> int:
        return max(0, self.section.capacity - self.selected)


class LotteryResult(BaseModel):
    round_id: int
    sections: int
    drawn: int
    lost: int


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person_id: int
    reason: str = Field(min_length=2, max_length=200)


class QueueOut(BaseModel):
    """A student's place in a round's virtual queue, or their admission."""

    round_id: int
    admitted: bool
    ahead: int  # students admitted before them still to come
    wait_seconds: float
    progress: float  # 0 when they entered, 1 at their turn
    token: str | None = None  # the admission token, once admitted
    expires_at: datetime | None = None  # the admission's end; then enter again


class QueueLive(BaseModel):
    """A round's queue as the registrar watches it."""

    round_id: int
    rate: int | None  # admitted per second; none: no queue
    waiting: int  # students whose turn is still to come
    admitted: int  # turns that came (an admission lapsed and entered again counts again)
    wait_seconds: float  # the wait of a student entering now
