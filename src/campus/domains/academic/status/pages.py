"""Pages of student status: my status (a student, phone-friendly) with its apply forms; for the
registrar and academic secretaries the record search, a record with its history, the change
requests, and batch graduation with its progress."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import STATUS_MANAGE, STATUS_READ
from campus.domains.academic.schemas import FilterInt
from campus.domains.academic.status import actions, queries
from campus.domains.academic.status.access import (
    access_managed_record,
    access_own_record,
    access_record,
)
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.status.schemas import (
    ALLOWED_FROM,
    KIND_LABELS,
    LEVEL_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    BatchCreate,
    ChangeCreate,
)
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-pages"])
BASE = "/academic/status"
STUDENT_KINDS = ("suspend", "resume", "transfer", "withdraw", "repeat")
ALL_KINDS = (*STUDENT_KINDS, "graduate", "complete")


def common() -> dict[str, Any]:
    return {
        "fmt": fmt,
        "STATUS_LABELS": STATUS_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "STATE_LABELS": STATE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
    }


def _open_kinds(record: StudentStatus, kinds: tuple[str, ...]) -> list[str]:
    """The changes that fit the record's current status (the page offers only these)."""
    return [k for k in kinds if record.status in ALLOWED_FROM[k]]


# ---------------------------------------------------------------- my status


@router.get(f"{BASE}/me")
async def my_status_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    record = await queries.record_of(session, principal.person_id)
    detail = await queries.record_detail(session, record) if record else None
    return render(
        request,
        "academic/status/me.html",
        detail=detail,
        kinds=_open_kinds(record, STUDENT_KINDS) if record else [],
        **common(),
    )


async def _form(
    request: Request,
    session: AsyncSession,
    record: StudentStatus,
    kind: str,
    action: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    errors = errors or {}
    majors = await queries.majors(session) if kind == "transfer" else []
    major_id = values.get("target_major_id") if kind == "transfer" else record.major_id
    min_grade = record.grade if kind == "transfer" else record.grade + 1
    classes = (
        await queries.classes_of(session, major_id, min_grade)
        if kind in ("resume", "repeat") or (kind == "transfer" and major_id)
        else []
    )
    detail = await queries.record_detail(session, record)
    return render(
        request,
        "academic/status/apply.html",
        422 if errors else 200,
        detail=detail,
        kind=kind,
        action=action,
        values=values,
        errors=errors,
        majors=majors,
        classes=classes,
        min_grade=min_grade,
        **common(),
    )


def _kind_or_404(kind: str, kinds: tuple[str, ...]) -> str:
    if kind not in kinds:
        raise NotFound(_("没有这种学籍异动"))
    return kind


class ApplyForm:
    def __init__(
        self,
        reason: Annotated[str, Form(max_length=2000)] = "",
        terms: Annotated[str, Form(max_length=3)] = "",
        target_major_id: Annotated[str, Form(max_length=20)] = "",
        target_class_id: Annotated[str, Form(max_length=20)] = "",
    ) -> None:
        def number(value: str) -> int | None:
            return int(value) if value.strip().isdigit() else None

        self.values: dict[str, Any] = {
            "reason": reason,
            "terms": number(terms),
            "target_major_id": number(target_major_id),
            "target_class_id": number(target_class_id),
        }


async def _file(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    record: StudentStatus,
    kind: str,
    form: ApplyForm,
    action: str,
    done: str,
) -> Response:
    person_id = None if record.person_id == principal.person_id else record.person_id
    try:
        body = ChangeCreate.model_validate({"kind": kind, "person_id": person_id, **form.values})
        await actions.check_file(session, principal, body)
    except (Problem, ValidationError) as exc:
        return await _form(request, session, record, kind, action, form.values, form_errors(exc))
    redirect = RedirectResponse(done, status_code=303)
    flash(request, redirect, _("{kind}申请已提交，请等待审批", kind=KIND_LABELS[kind]))
    return redirect


@router.get(f"{BASE}/me/apply")
async def my_apply_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    kind: Annotated[str, Query(max_length=20)],
) -> Response:
    record = await access_own_record(session, principal)
    kind = _kind_or_404(kind, STUDENT_KINDS)
    return await _form(request, session, record, kind, f"{BASE}/me/apply?kind={kind}", {})


@router.post(f"{BASE}/me/apply")
async def my_apply_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    kind: Annotated[str, Query(max_length=20)],
    form: Annotated[ApplyForm, Depends()],
) -> Response:
    record = await access_own_record(session, principal)
    kind = _kind_or_404(kind, STUDENT_KINDS)
    action = f"{BASE}/me/apply?kind={kind}"
    return await _file(request, session, principal, record, kind, form, action, f"{BASE}/me")


@router.get(f"{BASE}/options/classes")
async def class_options(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    target_major_id: FilterInt = None,
    min_grade: Annotated[int, Query(ge=1950, le=2100)] = 1950,
    major_id: FilterInt = None,
    all_classes: bool = False,
) -> Response:
    """The class choices of a major (htmx: the transfer form reloads them on a new major, and
    so does the teaching plans' filter, which names it ``major_id`` and whose blank choice is
    every class)."""
    major = target_major_id or major_id
    classes = await queries.classes_of(session, major, min_grade) if major else []
    return render(
        request,
        "academic/status/partials/class_options.html",
        classes=classes,
        values={},
        all_classes=all_classes,
    )


# ---------------------------------------------------------------- registrar


@router.get(f"{BASE}/records")
async def records_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_READ)],
    paging: PageParamsDep,
    q: Annotated[str | None, Query(max_length=40)] = None,
    major_id: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    grade: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    f = queries.RecordFilter(
        q=(q or "").strip() or None,
        major_id=int(major_id) if major_id and major_id.isdigit() else None,
        status=status if status in STATUS_LABELS else None,
        grade=int(grade) if grade and grade.isdigit() else None,
    )
    result = await queries.records_page(session, principal, f, paging)
    params = {"q": f.q, "major_id": f.major_id, "status": f.status, "grade": f.grade}
    query = urlencode({k: v for k, v in params.items() if v})
    if is_htmx(request):
        return render(
            request, "academic/status/partials/record_rows.html", result=result, query=query
        )
    return render(
        request,
        "academic/status/records.html",
        result=result,
        query=query,
        f=f,
        majors=await queries.majors(session),
        grades=await queries.grades(session),
        can_manage=principal.can(STATUS_MANAGE),
        **common(),
    )


@router.get(f"{BASE}/records/{{person_id}}")
async def record_page(
    request: Request,
    person_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    record = await access_record(session, principal, person_id)
    detail = await queries.record_detail(session, record)
    manageable = await queries.reaches(session, person_id, queries.managed(principal))
    return render(
        request,
        "academic/status/record.html",
        detail=detail,
        kinds=_open_kinds(record, ALL_KINDS) if manageable is not None else [],
        **common(),
    )


@router.get(f"{BASE}/records/{{person_id}}/apply")
async def apply_for_page(
    request: Request,
    person_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
    kind: Annotated[str, Query(max_length=20)],
) -> Response:
    record = await access_managed_record(session, principal, person_id)
    kind = _kind_or_404(kind, ALL_KINDS)
    action = f"{BASE}/records/{person_id}/apply?kind={kind}"
    return await _form(request, session, record, kind, action, {})


@router.post(f"{BASE}/records/{{person_id}}/apply")
async def apply_for_submit(
    request: Request,
    person_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
    kind: Annotated[str, Query(max_length=20)],
    form: Annotated[ApplyForm, Depends()],
) -> Response:
    record = await access_managed_record(session, principal, person_id)
    kind = _kind_or_404(kind, ALL_KINDS)
    action = f"{BASE}/records/{person_id}/apply?kind={kind}"
    done = f"{BASE}/records/{person_id}"
    return await _file(request, session, principal, record, kind, form, action, done)


@router.get(f"{BASE}/changes")
async def changes_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_READ)],
    paging: PageParamsDep,
    state: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    f = queries.ChangeFilter(
        state=state if state in STATE_LABELS else None,
        kind=kind if kind in ALL_KINDS else None,
        q=(q or "").strip() or None,
    )
    result = await queries.changes_page(session, principal, f, paging)
    query = urlencode({k: v for k, v in {"state": f.state, "kind": f.kind, "q": f.q}.items() if v})
    return render(
        request,
        "academic/status/changes.html",
        result=result,
        f=f,
        query=query,
        kinds=ALL_KINDS,
        **common(),
    )


# ---------------------------------------------------------------- batch graduation


@router.get(f"{BASE}/batches")
async def batches_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> Response:
    return await _batch_form(request, session, {}, {})


async def _batch_form(
    request: Request,
    session: AsyncSession,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    return render(
        request,
        "academic/status/batches.html",
        422 if errors else 200,
        values=values,
        errors=errors,
        majors=await queries.majors(session),
        grades=await queries.grades(session),
        batches=await queries.recent_batches(session),
        **common(),
    )


@router.post(f"{BASE}/batches")
async def batch_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
    kind: Annotated[str, Form(max_length=20)] = "graduate",
    grade: Annotated[str, Form(max_length=4)] = "",
    major_id: Annotated[str, Form(max_length=20)] = "",
    excluded: Annotated[str, Form(max_length=20_000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    values: dict[str, Any] = {
        "kind": kind,
        "grade": int(grade) if grade.isdigit() else None,
        "major_id": int(major_id) if major_id.isdigit() else None,
        "excluded": excluded.split(),
        "reason": reason.strip(),
    }
    try:
        body = BatchCreate.model_validate(values)
        batch_id = await actions.check_start_batch(session, principal, body)
    except (Problem, ValidationError) as exc:
        values["excluded"] = excluded
        return await _batch_form(request, session, values, form_errors(exc))
    return RedirectResponse(f"{BASE}/batches/{batch_id}", status_code=303)


@router.get(f"{BASE}/batches/{{batch_id}}")
async def batch_page(
    request: Request,
    batch_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> Response:
    batch = await queries.batch(session, batch_id)
    if batch is None:
        raise NotFound(_("批次 {id} 不存在", id=batch_id))
    names = await queries.names_of(session, [batch.major_id], [])
    return render(
        request,
        "academic/status/batch.html",
        batch=batch,
        major=names.unit(batch.major_id),
        **common(),
    )


@router.post(f"{BASE}/batches/{{batch_id}}/step")
async def batch_step(
    request: Request,
    batch_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> Response:
    """One more part of the batch; the progress partial polls this until it is finished."""
    batch = await queries.batch(session, batch_id)
    if batch is None:
        raise NotFound(_("批次 {id} 不存在", id=batch_id))
    await actions.do_batch_step(session, principal, batch)
    return render(request, "academic/status/partials/batch_progress.html", batch=batch, **common())
