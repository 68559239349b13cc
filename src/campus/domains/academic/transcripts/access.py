"""Who may issue and download transcripts: the student their own; whoever may read the
student's record (``access_record``: the registrar, the college's academic secretary within
their scope) theirs. Anyone else is told the transcript does not exist. Verifying needs no
sign-in: the unguessable code printed on the paper is the key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.status.access import access_record
from campus.domains.academic.transcripts import queries
from campus.domains.academic.transcripts.models import Transcript
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _


async def access_transcript(session: AsyncSession, principal: Principal, code: str) -> Transcript:
    transcript = await queries.by_code(session, code)
    if transcript.person_id != principal.person_id:
        try:
            await access_record(session, principal, transcript.person_id)
        except NotFound:
            raise NotFound(_("没有这份成绩单：请核对验证码")) from None
    return transcript
