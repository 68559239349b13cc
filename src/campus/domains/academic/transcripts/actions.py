"""Issuing a transcript: its content gathered as of now and kept, a verification code, an
audit entry and ``academic.transcript.issued``, in one transaction."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.grades import results as grades
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.transcripts import content
from campus.domains.academic.transcripts.models import Transcript
from campus.kernel import audit, clock, context
from campus.kernel.events import emit


def new_code() -> str:
    """Sixteen characters of base32 (80 random bits), grouped for reading aloud: unguessable,
    and without 0/1/8/9 to mistake for O/I/B/g."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


async def do_issue(
    session: AsyncSession, record: StudentStatus, language: content.Language
) -> Transcript:
    said, digest = await content.gather(session, record, language)
    transcript = Transcript(
        code=new_code(),
        person_id=record.person_id,
        language=language,
        content=said.model_dump(mode="json"),
        digest=digest,
        issued_at=clock.now(),
        issued_by=context.actor_id(),
    )
    session.add(transcript)
    await session.flush()
    audit.record(
        session,
        "academic.transcript.issue",
        "transcript",
        transcript.id,
        after={"person_id": record.person_id, "language": language, "code": transcript.code},
    )
    await emit(
        session,
        events.TRANSCRIPT_ISSUED,
        events.TranscriptIssued(
            transcript_id=transcript.id,
            person_id=record.person_id,
            language=language,
            courses=said.courses,
        ),
    )
    return transcript


async def still_current(session: AsyncSession, transcript: Transcript) -> bool:
    """Whether the student's results are still those the transcript lists."""
    now = await grades.course_results_of(session, transcript.person_id, content.GPA_SCALE)
    return content.digest_of(now) == transcript.digest
