"""JSON API of transcripts: /api/v1/academic/transcripts/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from campus.domains.academic.status.access import access_own_record, access_record
from campus.domains.academic.transcripts import actions, queries
from campus.domains.academic.transcripts.content import TranscriptContent
from campus.domains.academic.transcripts.pages import verify_url
from campus.domains.academic.transcripts.schemas import IssuedOut, IssueIn, VerifiedOut
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.platform.access.service import public, signed_in

router = APIRouter(prefix="/api/v1/academic/transcripts", tags=["academic-transcripts"])
Me = Annotated[Principal, signed_in()]


@router.post("", status_code=201, response_model=IssuedOut, summary="开具成绩单")
async def issue(request: Request, body: IssueIn, session: SessionDep, principal: Me) -> IssuedOut:
    if body.person_id is None or body.person_id == principal.person_id:
        record = await access_own_record(session, principal)
    else:
        record = await access_record(session, principal, body.person_id)
    transcript = await actions.do_issue(session, record, body.language)
    return IssuedOut(
        code=transcript.code,
        language=body.language,
        issued_at=transcript.issued_at,
        pdf_url=f"/academic/transcripts/{transcript.code}/pdf",
        verify_url=verify_url(request, transcript.code),
    )


@router.get(
    "/verify/{code}", response_model=VerifiedOut, dependencies=[public()], summary="核验成绩单"
)
async def verify(session: ReadSessionDep, code: str) -> VerifiedOut:
    transcript = await queries.by_code(session, code)
    return VerifiedOut(
        code=transcript.code,
        issued_at=transcript.issued_at,
        current=await actions.still_current(session, transcript),
        content=TranscriptContent.model_validate(transcript.content),
    )
