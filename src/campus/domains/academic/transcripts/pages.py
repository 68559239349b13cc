"""Pages of transcripts: my transcript (a student, phone-friendly: results summary, issue in
Chinese or English, earlier issues), the same for a student's record (registrar, academic
secretaries), the PDF of an issued transcript, and the public verification page its QR opens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campus.domains.academic.status.access import access_own_record, access_record
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.transcripts import actions, content, pdf, queries
from campus.domains.academic.transcripts.access import access_transcript
from campus.domains.academic.transcripts.content import TranscriptContent
from campus.domains.academic.transcripts.models import Transcript
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.templating import go_to, render
from campus.platform.access.service import public, signed_in

router = APIRouter(tags=["academic-pages"])
Reader = Annotated[Principal, signed_in()]
LanguageField = Annotated[Literal["zh", "en"], Form()]
VERIFY = "/verify/transcripts"


def verify_url(request: Request, code: str) -> str:
    return str(request.base_url).rstrip("/") + f"{VERIFY}/{code}"


async def _page(
    request: Request, session: ReadSessionDep, record: StudentStatus, action: str
) -> Response:
    preview, _digest = await content.gather(session, record, "zh")
    return render(
        request,
        "academic/transcripts/mine.html",
        record=record,
        preview=preview,
        issued=await queries.issued_to(session, record.person_id),
        action=action,
        fmt=fmt,
    )


@router.get("/academic/transcripts/me")
async def my_transcript(request: Request, session: ReadSessionDep, principal: Reader) -> Response:
    record = await access_own_record(session, principal)
    return await _page(request, session, record, "/academic/transcripts/me")


@router.post("/academic/transcripts/me")
async def issue_mine(
    request: Request, session: SessionDep, principal: Reader, language: LanguageField
) -> Response:
    record = await access_own_record(session, principal)
    transcript = await actions.do_issue(session, record, language)
    return go_to(request, f"/academic/transcripts/{transcript.code}/pdf")


@router.get("/academic/transcripts/students/{person_id}")
async def student_transcript(
    request: Request, session: ReadSessionDep, principal: Reader, person_id: int
) -> Response:
    record = await access_record(session, principal, person_id)
    return await _page(request, session, record, f"/academic/transcripts/students/{person_id}")


@router.post("/academic/transcripts/students/{person_id}")
async def issue_for_student(
    request: Request,
    session: SessionDep,
    principal: Reader,
    person_id: int,
    language: LanguageField,
) -> Response:
    record = await access_record(session, principal, person_id)
    transcript = await actions.do_issue(session, record, language)
    return go_to(request, f"/academic/transcripts/{transcript.code}/pdf")


@router.get("/academic/transcripts/{code}/pdf")
async def transcript_pdf(
    request: Request, session: ReadSessionDep, principal: Reader, rt: RuntimeDep, code: str
) -> Response:
    transcript = await access_transcript(session, principal, code)
    body = pdf.render(
        TranscriptContent.model_validate(transcript.content),
        rt.settings.site_name,
        transcript.code,
        fmt(transcript.issued_at, "%Y-%m-%d"),
        verify_url(request, transcript.code),
    )
    name = f"transcript-{transcript.content['student_no']}-{transcript.code}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(f"{VERIFY}/{{code}}", dependencies=[public()])
async def verify_page(request: Request, session: ReadSessionDep, code: str) -> Response:
    transcript = await queries.by_code(session, code)
    return render(
        request, "academic/transcripts/verify.html", **await _verified(session, transcript)
    )


async def _verified(session: ReadSessionDep, transcript: Transcript) -> dict[str, Any]:
    return {
        "transcript": transcript,
        "said": TranscriptContent.model_validate(transcript.content),
        "current": await actions.still_current(session, transcript),
        "fmt": fmt,
    }
