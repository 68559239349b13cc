"""HTML pages of the one-stop service hall (办事大厅): the catalog and its guides, applying,
my applications, the to-do center with the approval page, delegation while away, and the
statistics for administrators.

Pages call what the JSON API calls (hall, queries, actions, stats). A write whose refusal is
shown on the page runs in a savepoint: the kernel commits the request's transaction whatever
the page answers, so a refused action must leave nothing behind in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
    validation_field_errors,
)
from campus.kernel.i18n import LazyText, _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import FlashLevel, flash, render
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users
from campus.platform.workflow import actions, display, hall, queries, stats, stats_excel
from campus.platform.workflow.forms import queries as form_queries
from campus.platform.workflow.forms import validate as form_validate
from campus.platform.workflow.forms.prefill import prefill
from campus.platform.workflow.forms.schemas import FormVersionOut
from campus.platform.workflow.models import Instance, Task
from campus.platform.workflow.permissions import STATS_READ
from campus.platform.workflow.schemas import (
    AddSigner,
    BatchDecision,
    Decision,
    DelegationCreate,
    HallServiceOut,
    SendBack,
    Transfer,
)

router = APIRouter(tags=["workflow pages"])
ModelT = TypeVar("ModelT", bound=BaseModel)
Me = Annotated[Principal, signed_in()]
StatsReader = Annotated[Principal, require(STATS_READ)]
Comment = Annotated[str, Form(max_length=2000)]

STATS_PERIODS = (7, 30, 90)
POPULAR = 6


def _is_htmx(request: Request) -> bool:
    """A fragment is wanted; htmx restoring a page from history (back button) wants it whole."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def _redirect(
    request: Request, url: str, message: LazyText | str, level: FlashLevel = "success"
) -> Response:
    response = RedirectResponse(url, status_code=303)
    flash(request, response, message, level)
    return response


def _errors_of(problem: Problem) -> dict[str, str]:
    return {e.field: str(e.reason) for e in problem.errors}


def _text_of(problem: Problem) -> str:
    return str(problem.detail or problem.title)


async def _attempt(session: AsyncSession, work: Callable[[], Awaitable[Any]]) -> Problem | None:
    """Runs ``work`` in a savepoint; the refusal it raised (not-found ones are raised on, to
    show the not-found page), or None when it went through."""
    try:
        async with session.begin_nested():
            await work()
    except Problem as problem:
        if problem.status == 404:
            raise
        # Rows the action read after changing them in SQL still hold the undone values.
        session.expire_all()
        return problem
    return None


def _model(model: type[ModelT], message: LazyText, **values: Any) -> ModelT:
    """``model`` of ``values``; what does not fit is refused per field, as the API does."""
    try:
        return model(**values)
    except ValidationError as exc:
        found = validation_field_errors([dict(x) for x in exc.errors()])
        raise InvalidInput(message, errors=found) from exc


def _values(**extra: Any) -> dict[str, Any]:
    """What every hall template may use."""
    return {
        "when": display.when,
        "instance_statuses": display.INSTANCE_STATUSES,
        "task_statuses": display.TASK_STATUSES,
        "audiences": display.AUDIENCES,
        **extra,
    }


# ---------------------------------------------------------------- the hall and its services


@router.get("/hall")
async def hall_home(
    request: Request,
    session: ReadSessionDep,
    me: Me,
    q: Annotated[str | None, Query(max_length=60)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    # A filter form sends its empty fields as "", which means "any" here.
    term = (q or "").strip() or None
    everything = await hall.catalog(session, me.person_id)
    shown = (
        await hall.catalog(session, me.person_id, q=term, category=category or None)
        if term or category
        else everything
    )
    department_id = int(department) if department and department.isdigit() else None
    if department_id is not None:
        shown = [s for s in shown if s.department_id == department_id]
    filters = {"q": term or "", "category": category or "", "department": department_id}
    values = _values(services=shown, filters=filters)
    if _is_htmx(request):
        return render(request, "workflow/hall/partials/services.html", **values)
    person = await users.get_person_ref(session, me.person_id)
    return render(
        request,
        "workflow/hall/home.html",
        categories=_categories(everything),
        departments=_departments(everything),
        favourites=[s for s in everything if s.favourite],
        popular=hall.popular([s for s in everything if s.apply_count], POPULAR),
        counts=await queries.counts(session, me.person_id),
        my_audience=users.audience_of(person.person_type) if person else "staff",
        **values,
    )


def _categories(services: list[HallServiceOut]) -> list[tuple[str, int]]:
    counted: dict[str, int] = {}
    for service in services:
        counted[service.category] = counted.get(service.category, 0) + 1
    return list(counted.items())


def _departments(services: list[HallServiceOut]) -> list[tuple[int, str]]:
    named = {s.department_id: s.department_name for s in services if s.department_id}
    return sorted(((i, n) for i, n in named.items() if i and n), key=lambda d: d[1])


async def _visible_service(session: AsyncSession, me: Principal, key: str) -> HallServiceOut:
    service = await hall.service_by_key(session, key, me.person_id)
    if not service.published:
        raise NotFound(_("服务不存在"))
    return service


@router.get("/hall/services/{key}")
async def service_page(request: Request, key: str, session: ReadSessionDep, me: Me) -> Response:
    service = await _visible_service(session, me, key)
    person = await users.get_person_ref(session, me.person_id)
    return render(
        request,
        "workflow/hall/service.html",
        service=service,
        paragraphs=[line.strip() for line in service.guide.splitlines() if line.strip()],
        for_me=hall.serves(service, person),
        on_leave=hall.on_leave_for(service, person),
        **_values(),
    )


@router.post("/hall/services/{key}/favourite")
async def favourite_toggle(
    request: Request,
    key: str,
    session: SessionDep,
    me: Me,
    on: Annotated[bool, Form()] = True,
) -> Response:
    await hall.check_favourite(session, me.person_id, key, on)
    service = await _visible_service(session, me, key)
    if _is_htmx(request):
        return render(request, "workflow/hall/partials/favourite.html", service=service)
    message = _("已收藏“{name}”", name=service.name) if on else _("已取消收藏")
    return _redirect(request, f"/hall/services/{quote(key)}", message)


# ---------------------------------------------------------------- applying


@router.get("/hall/services/{key}/apply")
async def apply_page(request: Request, key: str, session: ReadSessionDep, me: Me) -> Response:
    service = await hall.applicable_service(session, me, key)
    if service.kind == "link" and service.link:
        return RedirectResponse(service.link, status_code=303)
    form = await hall.form_of(session, service)
    values = await prefill(session, me.person_id, form)
    return await _apply_form(request, session, service, form, values, {})


async def _apply_form(
    request: Request,
    session: AsyncSession,
    service: HallServiceOut,
    form: FormVersionOut,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    alert: str | None = None,
) -> Response:
    return render(
        request,
        "workflow/hall/apply.html",
        status,
        service=service,
        form=form,
        form_values=values,
        errors=errors,
        labels=await form_queries.value_labels(session, form, values),
        alerts=[("danger", alert)] if alert else [],
        **_values(),
    )


@router.post("/hall/services/{key}/apply")
async def apply_submit(request: Request, key: str, session: SessionDep, me: Me) -> Response:
    service = await hall.applicable_service(session, me, key)
    form = await hall.form_of(session, service)
    data = form_validate.data_from_form(form, await request.form())
    started: list[Instance] = []

    async def apply() -> None:
        started.append(await hall.check_apply(session, me, key, data))

    problem = await _attempt(session, apply)
    if problem is not None:
        errors = form_validate.errors_by_field(problem)
        return await _apply_form(
            request, session, service, form, data, errors, problem.status, _text_of(problem)
        )
    message = _("已提交“{name}”，可在本页查看审批进度", name=service.name)
    return _redirect(request, f"/hall/instances/{started[0].id}", message)


# ---------------------------------------------------------------- my applications


@router.get("/hall/mine")
async def my_applications(
    request: Request,
    session: ReadSessionDep,
    me: Me,
    paging: PageParamsDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if status and status not in display.INSTANCE_STATUSES:
        raise InvalidInput.on(
            "status", _("应为以下之一：{expected}", expected="、".join(display.INSTANCE_STATUSES))
        )
    page = await queries.my_instances(session, me.person_id, paging, status or None)
    return render(
        request,
        "workflow/hall/mine.html",
        page=page,
        status=status or "",
        page_link=lambda n: "/hall/mine?" + urlencode({"status": status or "", "page": n}),
        **_values(),
    )


# ---------------------------------------------------------------- one application


@router.get("/hall/instances/{instance_id}")
async def instance_page(
    request: Request, instance_id: int, session: ReadSessionDep, me: Me
) -> Response:
    instance = await queries.access_instance(session, me, instance_id)
    return await _instance_view(request, session, me, instance)


async def _instance_view(
    request: Request,
    session: AsyncSession,
    me: Principal,
    instance: Instance,
    *,
    task: Task | None = None,
    status: int = 200,
    problem: Problem | None = None,
    origin: str = "",
    posted: dict[str, Any] | None = None,
    resubmit_values: dict[str, Any] | None = None,
) -> Response:
    """The application as its reader sees it; ``task`` is the reader's work item on it (their
    open decision by default), ``problem`` the refusal of what they just tried in the part of
    the page called ``origin`` (whose inputs ``posted`` refills)."""
    out = await queries.instance_out(session, instance, me.person_id)
    if task is None and out.my_open_task_id is not None:
        task = await queries.access_task(session, me, out.my_open_task_id)
    form = (
        await form_queries.form_version(session, instance.form_version_id)
        if instance.form_version_id is not None
        else None
    )
    labels = await form_queries.value_labels(session, form, out.data) if form else {}
    deciding = (
        task is not None
        and task.kind == "approve"
        and task.status == "pending"
        and out.status == "running"
    )
    back_steps = [
        s
        for s in out.steps
        if deciding and task and s.state == "done" and s.kind == "approve" and s.id != task.step_id
    ]
    urge_from = instance.urged_at + actions.URGE_INTERVAL if instance.urged_at else None
    return render(
        request,
        "workflow/hall/instance.html",
        status,
        instance=out,
        form=form,
        labels=labels,
        timeline=display.timeline(out),
        task=task,
        deciding=deciding,
        back_steps=back_steps,
        urge_from=urge_from if urge_from and urge_from > clock.now() else None,
        errors=_errors_of(problem) if problem else {},
        alerts=[("danger", _text_of(problem))] if problem else [],
        origin=origin,
        posted=posted or {},
        resubmit_values=out.data if resubmit_values is None else resubmit_values,
        **_values(),
    )


async def _instance_action(
    request: Request,
    session: AsyncSession,
    me: Principal,
    instance_id: int,
    work: Callable[[], Awaitable[Any]],
    done: LazyText,
    origin: str,
    posted: dict[str, Any] | None = None,
) -> Response:
    problem = await _attempt(session, work)
    if problem is not None:
        instance = await queries.access_instance(session, me, instance_id)
        return await _instance_view(
            request,
            session,
            me,
            instance,
            status=problem.status,
            problem=problem,
            origin=origin,
            posted=posted,
        )
    return _redirect(request, f"/hall/instances/{instance_id}", done)


@router.post("/hall/instances/{instance_id}/withdraw")
async def withdraw_submit(
    request: Request, instance_id: int, session: SessionDep, me: Me
) -> Response:
    async def work() -> None:
        await actions.check_withdraw(session, me, instance_id)

    return await _instance_action(
        request, session, me, instance_id, work, _("申请已撤回"), "applicant"
    )


@router.post("/hall/instances/{instance_id}/urge")
async def urge_submit(request: Request, instance_id: int, session: SessionDep, me: Me) -> Response:
    async def work() -> None:
        await actions.check_urge(session, me, instance_id)

    return await _instance_action(
        request, session, me, instance_id, work, _("已催办，审批人会收到提醒"), "applicant"
    )


@router.post("/hall/instances/{instance_id}/comments")
async def comment_submit(
    request: Request, instance_id: int, session: SessionDep, me: Me, comment: Comment = ""
) -> Response:
    instance = await queries.access_instance(session, me, instance_id)

    async def work() -> None:
        await actions.check_comment(session, instance, me, Decision(comment=comment or None))

    return await _instance_action(
        request, session, me, instance_id, work, _("评论已发表"), "comment", {"comment": comment}
    )


@router.post("/hall/instances/{instance_id}/resubmit")
async def resubmit_submit(
    request: Request, instance_id: int, session: SessionDep, me: Me
) -> Response:
    instance = await queries.access_instance(session, me, instance_id)
    posted = await request.form()
    form = (
        await form_queries.form_version(session, instance.form_version_id)
        if instance.form_version_id is not None
        else None
    )
    data = form_validate.data_from_form(form, posted) if form else None
    typed = posted.get("comment")
    comment = typed[:2000].strip() if isinstance(typed, str) else ""

    async def work() -> None:
        clean = await hall.clean_for_resubmit(session, me, instance_id, data)
        await actions.check_resubmit(session, me, instance_id, clean, comment or None)

    problem = await _attempt(session, work)
    if problem is not None:
        instance = await queries.access_instance(session, me, instance_id)
        return await _instance_view(
            request,
            session,
            me,
            instance,
            status=problem.status,
            problem=problem,
            origin="resubmit",
            posted={"comment": comment},
            resubmit_values=data,
        )
    return _redirect(request, f"/hall/instances/{instance_id}", _("已重新提交"))


# ---------------------------------------------------------------- the to-do center


@router.get("/hall/tasks")
async def task_center(
    request: Request,
    session: ReadSessionDep,
    me: Me,
    paging: PageParamsDep,
    box: Annotated[queries.TaskBox, Query()] = "todo",
) -> Response:
    page = await queries.task_box(session, me.person_id, box, paging)
    return render(
        request,
        "workflow/hall/tasks.html",
        box=box,
        page=page,
        counts=await queries.counts(session, me.person_id),
        sources=display.TASK_SOURCES,
        now=clock.now(),
        page_link=lambda n: "/hall/tasks?" + urlencode({"box": box, "page": n}),
        **_values(),
    )


@router.post("/hall/tasks/batch")
async def batch_submit(
    request: Request,
    session: SessionDep,
    me: Me,
    task_ids: Annotated[list[int] | None, Form()] = None,
    comment: Comment = "",
) -> Response:
    if not task_ids:
        return _redirect(request, "/hall/tasks", _("请先勾选要同意的待办"), "warning")
    try:
        body = BatchDecision(task_ids=task_ids, action="approve", comment=comment or None)
    except ValidationError:
        return _redirect(request, "/hall/tasks", _("一次最多处理 500 项"), "warning")
    result = await actions.check_batch(session, me, body)
    if not result.failed:
        return _redirect(request, "/hall/tasks", _("已同意 {n} 项", n=len(result.done)))
    reasons = "；".join(f"#{task_id} {reason}" for task_id, reason in result.failed.items())
    message = _(
        "已同意 {n} 项，{m} 项未处理：{reasons}",
        n=len(result.done),
        m=len(result.failed),
        reasons=reasons,
    )
    return _redirect(request, "/hall/tasks", message, "warning")


@router.get("/hall/tasks/{task_id}")
async def task_page(request: Request, task_id: int, session: ReadSessionDep, me: Me) -> Response:
    task = await queries.access_task(session, me, task_id)
    if task.kind == "external":
        if not task.link or not task.link.startswith("/") or task.link.startswith("//"):
            raise NotFound(_("待办不存在"))
        return RedirectResponse(task.link, status_code=303)
    assert task.instance_id is not None
    instance = await queries.access_instance(session, me, task.instance_id)
    return await _instance_view(request, session, me, instance, task=task)


async def _task_action(
    request: Request,
    session: AsyncSession,
    me: Principal,
    task_id: int,
    work: Callable[[], Awaitable[Any]],
    done: LazyText,
    origin: str,
    posted: dict[str, Any],
    then: str = "/hall/tasks",
) -> Response:
    problem = await _attempt(session, work)
    if problem is None:
        return _redirect(request, then, done)
    task = await queries.access_task(session, me, task_id)
    if task.instance_id is None:
        raise NotFound(_("待办不存在"))
    instance = await queries.access_instance(session, me, task.instance_id)
    return await _instance_view(
        request,
        session,
        me,
        instance,
        task=task,
        status=problem.status,
        problem=problem,
        origin=origin,
        posted=posted,
    )


@router.post("/hall/tasks/{task_id}/approve")
async def approve_submit(
    request: Request, task_id: int, session: SessionDep, me: Me, comment: Comment = ""
) -> Response:
    async def work() -> None:
        await actions.check_decide(session, me, task_id, True, Decision(comment=comment or None))

    return await _task_action(
        request, session, me, task_id, work, _("已同意"), "decide", {"comment": comment}
    )


@router.post("/hall/tasks/{task_id}/reject")
async def reject_submit(
    request: Request, task_id: int, session: SessionDep, me: Me, comment: Comment = ""
) -> Response:
    async def work() -> None:
        await actions.check_decide(session, me, task_id, False, Decision(comment=comment or None))

    return await _task_action(
        request, session, me, task_id, work, _("已驳回"), "decide", {"comment": comment}
    )


@router.post("/hall/tasks/{task_id}/send-back")
async def send_back_submit(
    request: Request,
    task_id: int,
    session: SessionDep,
    me: Me,
    comment: Comment = "",
    to_step: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    async def work() -> None:
        body = SendBack(comment=comment or None, to_step=to_step or None)
        await actions.check_send_back(session, me, task_id, body)

    return await _task_action(
        request,
        session,
        me,
        task_id,
        work,
        _("已退回"),
        "send_back",
        {"comment": comment, "to_step": to_step},
    )


def _person_ids(raw: list[str] | None, field: str, missing: LazyText) -> list[int]:
    ids = [int(v) for v in raw or [] if v.strip().isdigit()]
    if not ids:
        raise InvalidInput.on(field, missing)
    return ids


@router.post("/hall/tasks/{task_id}/transfer")
async def transfer_submit(
    request: Request,
    task_id: int,
    session: SessionDep,
    me: Me,
    comment: Comment = "",
    to_person_id: Annotated[list[str] | None, Form()] = None,
) -> Response:
    async def work() -> None:
        person_id = _person_ids(to_person_id, "to_person_id", _("请选择转办给谁"))[0]
        body = Transfer(comment=comment or None, to_person_id=person_id)
        await actions.check_transfer(session, me, task_id, body)

    return await _task_action(
        request, session, me, task_id, work, _("已转办"), "transfer", {"comment": comment}
    )


@router.post("/hall/tasks/{task_id}/add-signers")
async def add_signers_submit(
    request: Request,
    task_id: int,
    session: SessionDep,
    me: Me,
    comment: Comment = "",
    person_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    async def work() -> None:
        people = _person_ids(person_ids, "person_ids", _("请选择加签的人"))
        body = _model(AddSigner, _("最多加签 50 人"), comment=comment or None, person_ids=people)
        await actions.check_add_signers(session, me, task_id, body)

    # Adding signers keeps the task open: back to it, to decide with them or after them.
    return await _task_action(
        request,
        session,
        me,
        task_id,
        work,
        _("已加签"),
        "signers",
        {"comment": comment},
        then=f"/hall/tasks/{task_id}",
    )


@router.post("/hall/tasks/{task_id}/read")
async def read_submit(request: Request, task_id: int, session: SessionDep, me: Me) -> Response:
    await queries.access_task(session, me, task_id)
    await actions.check_read_copy(session, me, task_id)
    return _redirect(request, "/hall/tasks?box=cc", _("已阅"))


# ---------------------------------------------------------------- delegation while away


@router.get("/hall/delegations")
async def delegations_page(request: Request, session: ReadSessionDep, me: Me) -> Response:
    return await _delegations_view(request, session, me)


async def _delegations_view(
    request: Request,
    session: AsyncSession,
    me: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    mine = await queries.delegations(session, me.person_id)
    now = clock.now()
    names = await _process_names(session)
    return render(
        request,
        "workflow/hall/delegations.html",
        status,
        delegations=mine,
        now=now,
        processes=list(names.items()),
        process_names=names,
        values=values or {"starts_at": display.local_input(now)},
        errors=errors or {},
        **_values(),
    )


@router.post("/hall/delegations")
async def delegation_create(
    request: Request,
    session: SessionDep,
    me: Me,
    delegate_id: Annotated[list[str] | None, Form()] = None,
    starts_at: Annotated[str, Form(max_length=40)] = "",
    ends_at: Annotated[str, Form(max_length=40)] = "",
    process_key: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    values = {"starts_at": starts_at, "ends_at": ends_at, "process_key": process_key}

    async def work() -> None:
        body = _delegation_body(delegate_id, starts_at, ends_at, process_key)
        await actions.check_delegate(session, me, body)

    problem = await _attempt(session, work)
    if problem is None:
        return _redirect(request, "/hall/delegations", _("委托已设置"))
    errors = _errors_of(problem) or {"_": _text_of(problem)}
    return await _delegations_view(
        request, session, me, values=values, errors=errors, status=problem.status
    )


def _delegation_body(
    delegate_id: list[str] | None, starts_at: str, ends_at: str, process_key: str
) -> DelegationCreate:
    errors: list[FieldError] = []
    delegate = [int(v) for v in delegate_id or [] if v.strip().isdigit()]
    if not delegate:
        errors.append(FieldError("delegate_id", _("请选择委托给谁")))
    moments: dict[str, datetime] = {}
    for field, text in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            moments[field] = display.china_time(text)
        except ValueError:
            errors.append(FieldError(field, _("请填写日期和时间")))
    if errors:
        raise InvalidInput(_("委托填写有误，请检查标出的项"), errors=errors)
    return _model(
        DelegationCreate,
        _("委托填写有误，请检查标出的项"),
        delegate_id=delegate[0],
        process_key=process_key or None,
        **moments,
    )


@router.post("/hall/delegations/{delegation_id}/end")
async def delegation_end(
    request: Request, delegation_id: int, session: SessionDep, me: Me
) -> Response:
    await actions.check_end_delegation(session, me, delegation_id)
    return _redirect(request, "/hall/delegations", _("委托已结束"))


# ---------------------------------------------------------------- statistics


def _period(days: int) -> int:
    if days not in STATS_PERIODS:
        raise InvalidInput.on(
            "days", _("应为以下之一：{expected}", expected="、".join(map(str, STATS_PERIODS)))
        )
    return days


async def _process_names(session: AsyncSession) -> dict[str, str]:
    return {p.key: p.name for p in await queries.processes(session)}


@router.get("/workflow/stats")
async def stats_page(
    request: Request, session: ReadSessionDep, _reader: StatsReader, days: int = 30
) -> Response:
    result = await stats.hall_stats(session, _period(days))
    names = await _process_names(session)
    return render(
        request,
        "workflow/hall/stats.html",
        stats=result,
        periods=STATS_PERIODS,
        process_names=names,
        charts=display.stats_charts(result, names),
        **_values(),
    )


@router.get("/workflow/stats/export.xlsx")
async def stats_export(session: ReadSessionDep, _reader: StatsReader, days: int = 30) -> Response:
    result = await stats.hall_stats(session, _period(days))
    data = stats_excel.workbook(result, await _process_names(session))
    return xlsx_response(data, f"办事统计-近{days}天.xlsx", f"hall-stats-{days}d.xlsx")
