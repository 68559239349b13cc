"""Input and output of transcripts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from campus.domains.academic.transcripts.content import Language, TranscriptContent


class IssueIn(BaseModel):
    language: Language = "zh"
    # Whose transcript: left out, the caller's own.
    person_id: int | None = Field(default=None, ge=1)


class IssuedOut(BaseModel):
    code: str
    language: Language
    issued_at: datetime
    pdf_url: str
    verify_url: str


class VerifiedOut(BaseModel):
    """What the verification page says: the transcript as issued, and whether the student's
    results are still those it lists."""

    code: str
    issued_at: datetime
    current: bool
    content: TranscriptContent
