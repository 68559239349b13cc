"""JSON API of teaching evaluation (评教): /api/v1/academic/evaluation/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from campus.domains.academic.evaluation import access, actions, excel, queries
from campus.domains.academic.evaluation.schemas import (
    BallotIn,
    CompletionOut,
    FormIn,
    FormOut,
    MyEvaluation,
    Reminded,
    ResultsOut,
    SectionResult,
    Submitted,
)
from campus.domains.academic.offering import queries as offering_queries
from campus.domains.academic.permissions import EVALUATION_MANAGE, EVALUATION_READ
from campus.domains.academic.programmes.queries import current_term
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/evaluation", tags=["academic-evaluation"])

Me = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(EVALUATION_MANAGE)]
Reader = Annotated[Principal, require(EVALUATION_READ)]
Threshold = Annotated[float, Query(ge=0, le=1, description="完成率阈值（0–1）")]
DEFAULT_THRESHOLD = 0.8


async def _term_id(session: ReadSessionDep, term_id: int | None) -> int:
    if term_id is not None:
        return term_id
    term = await current_term(session)
    if term is None:
        raise NotFound(_("还没有学期"))
    return term.id


@router.get("/forms", response_model=list[FormOut], summary="评教问卷（各学期）")
async def list_forms(session: ReadSessionDep, _reader: Reader) -> list[FormOut]:
    now = clock.now()
    return [await queries.form_out(session, f, now) for f in await queries.forms(session)]


@router.post("/forms", response_model=FormOut, status_code=201, summary="发布学期评教问卷")
async def create_form(body: FormIn, session: SessionDep, _manager: Manager) -> FormOut:
    found = await actions.check_save_form(session, body)
    return await queries.form_out(session, found, clock.now())


@router.get("/forms/{form_id}", response_model=FormOut, summary="评教问卷")
async def get_form(form_id: int, session: ReadSessionDep, _reader: Reader) -> FormOut:
    return await queries.form_out(session, await queries.form_or_404(session, form_id), clock.now())


@router.put("/forms/{form_id}", response_model=FormOut, summary="修改评教问卷（尚无作答时）")
async def update_form(
    form_id: int, body: FormIn, session: SessionDep, _manager: Manager
) -> FormOut:
    found = await actions.check_save_form(session, body, form_id)
    return await queries.form_out(session, found, clock.now())


@router.post("/forms/{form_id}/close", response_model=FormOut, summary="提前结束评教")
async def close_form(form_id: int, session: SessionDep, _manager: Manager) -> FormOut:
    found = await actions.check_close(session, form_id)
    return await queries.form_out(session, found, clock.now())


@router.post("/forms/{form_id}/remind", response_model=Reminded, summary="提醒未完成评教的学生")
async def remind(form_id: int, session: SessionDep, manager: Manager) -> Reminded:
    return Reminded(students=await actions.check_remind(session, manager, form_id))


@router.get("/me", response_model=MyEvaluation, summary="我的评教（待评教学班与进度）")
async def mine(session: ReadSessionDep, me: Me, term_id: int | None = None) -> MyEvaluation:
    term = await _term_id(session, term_id)
    return await queries.my_evaluation(session, me.person_id, term, clock.now())


@router.post(
    "/sections/{section_id}",
    response_model=Submitted,
    status_code=201,
    summary="提交对教学班的评价（匿名）",
)
async def submit(section_id: int, body: BallotIn, session: SessionDep, me: Me) -> Submitted:
    return await actions.check_submit(session, me, section_id, body)


@router.get("/forms/{form_id}/completion", response_model=CompletionOut, summary="评教完成情况")
async def completion(
    form_id: int,
    session: ReadSessionDep,
    reader: Reader,
    threshold: Threshold = DEFAULT_THRESHOLD,
) -> CompletionOut:
    found = await queries.form_or_404(session, form_id)
    return await queries.completion(session, reader, found, threshold)


@router.get("/forms/{form_id}/completion.xlsx", summary="导出评教完成情况（Excel）")
async def completion_xlsx(
    form_id: int,
    session: ReadSessionDep,
    reader: Reader,
    threshold: Threshold = DEFAULT_THRESHOLD,
) -> Response:
    found = await queries.form_or_404(session, form_id)
    data = await queries.completion(session, reader, found, threshold)
    return xlsx_response(
        excel.completion(data, found.name), f"评教完成情况-{found.name}.xlsx", "completion.xlsx"
    )


@router.get(
    "/forms/{form_id}/results",
    response_model=ResultsOut,
    summary="评教结果：按开课单位、教师、教学班（评教结束后）",
)
async def results(form_id: int, session: ReadSessionDep, reader: Reader) -> ResultsOut:
    found = await queries.form_or_404(session, form_id)
    access.results_ready(found)
    sections = await queries.sections_in_scope(session, reader, found.term_id)
    return await queries.results(
        session, await queries.form_out(session, found, clock.now()), sections
    )


@router.get(
    "/sections/{section_id}/results",
    response_model=SectionResult,
    summary="教学班评教结果（任课教师在评教结束后可看本人的）",
)
async def section_results(section_id: int, session: ReadSessionDep, me: Me) -> SectionResult:
    section, found = await access.access_section_results(session, me, section_id)
    return await queries.section_detail(
        session,
        await queries.form_out(session, found, clock.now()),
        (await offering_queries.sections_out(session, [section]))[0],
    )
