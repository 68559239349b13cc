"""The one-stop service hall (办事大厅): the catalog of services, favourites, and applying for a
service (its form checked, its process started)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef
from campus.platform.workflow import actions
from campus.platform.workflow.forms import queries as form_queries
from campus.platform.workflow.forms import validate as form_validate
from campus.platform.workflow.forms.schemas import FormVersionOut
from campus.platform.workflow.models import Favourite, HallService, Instance
from campus.platform.workflow.schemas import (
    HallServiceIn,
    HallServiceOut,
    HallServicePatch,
)

MAX_SEARCH = 60


# ---------------------------------------------------------------- reading the catalog


async def catalog(
    session: AsyncSession,
    person_id: int | None,
    *,
    q: str | None = None,
    category: str | None = None,
    include_unpublished: bool = False,
) -> list[HallServiceOut]:
    """The services a person may use (their audience's and everyone's), best first."""
    stmt = select(HallService)
    if not include_unpublished:
        stmt = stmt.where(HallService.published.is_(True))
    if person_id is not None and not include_unpublished:
        person = await users.get_person_ref(session, person_id)
        audiences = ["all", users.audience_of(person.person_type)] if person else ["all"]
        stmt = stmt.where(HallService.audience.in_(audiences))
    if q:
        like = f"%{q[:MAX_SEARCH]}%"
        stmt = stmt.where(
            or_(
                HallService.name.like(like),
                HallService.summary.like(like),
                HallService.category.like(like),
                HallService.guide.like(like),
            )
        )
    if category:
        stmt = stmt.where(HallService.category == category)
    rows = list(await session.scalars(stmt.order_by(HallService.sort_order, HallService.id)))
    favourites = await _favourite_ids(session, person_id)
    departments = await _department_names(session, rows)
    return [_out(s, s.id in favourites, departments) for s in rows]


async def service_by_key(
    session: AsyncSession, key: str, person_id: int | None = None
) -> HallServiceOut:
    service = await _service(session, key)
    favourites = await _favourite_ids(session, person_id)
    return _out(service, service.id in favourites, await _department_names(session, [service]))


async def _service(session: AsyncSession, key: str) -> HallService:
    service = await session.scalar(select(HallService).where(HallService.key == key))
    if service is None:
        raise NotFound(_("服务不存在"))
    return service


async def _favourite_ids(session: AsyncSession, person_id: int | None) -> set[int]:
    if person_id is None:
        return set()
    return set(
        await session.scalars(select(Favourite.service_id).where(Favourite.person_id == person_id))
    )


async def _department_names(session: AsyncSession, rows: list[HallService]) -> dict[int, str]:
    ids = list({s.department_id for s in rows if s.department_id is not None})
    return {
        unit_id: unit.name for unit_id, unit in (await users.get_org_units(session, ids)).items()
    }


def _out(service: HallService, favourite: bool, departments: dict[int, str]) -> HallServiceOut:
    out = HallServiceOut.model_validate(service)
    out.favourite = favourite
    out.department_name = departments.get(service.department_id or 0)
    return out


def popular(services: list[HallServiceOut], limit: int = 8) -> list[HallServiceOut]:
    return sorted(services, key=lambda s: (-s.apply_count, s.sort_order))[:limit]


# ---------------------------------------------------------------- applying


def serves(service: HallService | HallServiceOut, person: PersonRef | None) -> bool:
    """Whether the service is for people like this one (its audience, or everyone)."""
    return person is not None and service.audience in (
        "all",
        users.audience_of(person.person_type),
    )


def on_leave_for(service: HallService | HallServiceOut, person: PersonRef | None) -> bool:
    """Whether the person may not apply now because they are on leave (休学): the hall's
    applications are for people in study or at work; a student on leave applies to resume
    in their status record (我的学籍). A link to another system is that system's to judge."""
    return person is not None and person.status != "active" and service.kind == "form"


def _applicant(service: HallService, person: PersonRef | None) -> PersonRef:
    """The person, if they may apply for the service; else a 403 saying why."""
    if person is None or not serves(service, person):
        raise Forbidden(_("该服务不面向你所在的人群"))
    if on_leave_for(service, person):
        raise Forbidden(_("你目前处于休学状态，不能办理此服务；复学请在“我的学籍”中申请"))
    return person


async def form_of(session: AsyncSession, service: HallServiceOut) -> FormVersionOut:
    if service.kind != "form" or not service.form_key:
        raise Conflict(_("该服务在其他系统办理，请点击链接前往"))
    return await form_queries.published_version(session, service.form_key)


async def check_apply(
    session: AsyncSession, principal: Principal, key: str, data: dict[str, Any]
) -> Instance:
    service = await _service(session, key)
    if not service.published:
        raise NotFound(_("服务不存在"))
    person = _applicant(service, await users.get_person_ref(session, principal.person_id))
    out = _out(service, False, {})
    form = await form_of(session, out)
    clean = await form_validate.clean_submission(session, form, data)
    assert service.process_key is not None
    instance = await actions.do_start(
        session,
        actions.StartRequest(
            process_key=service.process_key,
            applicant_id=principal.person_id,
            title=f"{service.name}（{person.name}）",
            data=clean,
            form_version_id=form.id,
            service_id=service.id,
        ),
    )
    await actions.attach(
        session, principal.person_id, instance, form_validate.attachment_ids(form, clean), "data"
    )
    await session.execute(
        update(HallService)
        .where(HallService.id == service.id)
        .values(apply_count=HallService.apply_count + 1)
        .execution_options(synchronize_session=False)
    )
    return instance


async def clean_for_resubmit(
    session: AsyncSession, principal: Principal, instance_id: int, data: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Edited data of a returned application checked against the form it was filled in with."""
    if data is None:
        return None
    instance = await session.get(Instance, instance_id)
    if instance is None or instance.applicant_id != principal.person_id:
        raise NotFound(_("申请不存在"))
    if instance.form_version_id is None:
        raise InvalidInput.on("data", _("该申请没有表单，不能修改内容"))
    form = await form_queries.form_version(session, instance.form_version_id)
    clean = await form_validate.clean_submission(session, form, data)
    await actions.attach(
        session, principal.person_id, instance, form_validate.attachment_ids(form, clean), "data"
    )
    return clean


# ---------------------------------------------------------------- favourites


async def check_favourite(session: AsyncSession, person_id: int, key: str, on: bool) -> None:
    service = await _service(session, key)
    exists = await session.get(Favourite, (person_id, service.id))
    if on and exists is None:
        session.add(Favourite(person_id=person_id, service_id=service.id, created_at=clock.now()))
    elif not on and exists is not None:
        await session.execute(
            delete(Favourite).where(
                Favourite.person_id == person_id, Favourite.service_id == service.id
            )
        )


# ---------------------------------------------------------------- managing the catalog


async def _check_binding(session: AsyncSession, body: HallServiceIn) -> None:
    if body.kind == "form":
        if not body.form_key:
            raise InvalidInput.on("form_key", _("表单类服务需要选择表单"))
        if not body.process_key:
            raise InvalidInput.on("process_key", _("表单类服务需要选择审批流程"))
        try:
            await form_queries.published_version(session, body.form_key)
        except NotFound as exc:
            raise InvalidInput.on("form_key", _("表单不存在或尚未发布")) from exc
        try:
            await actions.published_version(session, body.process_key)
        except NotFound as exc:
            raise InvalidInput.on("process_key", _("流程不存在或尚未发布")) from exc
    elif body.kind == "link" and not body.link:
        raise InvalidInput.on("link", _("链接类服务需要填写链接"))
    if (
        body.department_id is not None
        and await users.get_org_unit(session, body.department_id) is None
    ):
        raise InvalidInput.on("department_id", _("部门不存在"))


async def check_create_service(session: AsyncSession, body: HallServiceIn) -> HallService:
    if await session.scalar(select(HallService.id).where(HallService.key == body.key)):
        raise Conflict.on("key", _("服务标识 {key} 已存在", key=body.key))
    await _check_binding(session, body)
    now = clock.now()
    service = HallService(**body.model_dump(), created_at=now, updated_at=now)
    session.add(service)
    await session.flush()
    audit.record(
        session, "workflow.service.create", "wf_service", service.id, after={"key": body.key}
    )
    return service


async def check_update_service(
    session: AsyncSession, key: str, body: HallServicePatch
) -> HallService:
    service = await _service(session, key)
    before = HallServiceIn.model_validate(service).model_dump()
    merged = HallServiceIn.model_validate({**before, **body.model_dump(exclude_unset=True)})
    await _check_binding(session, merged)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(service, name, value)
    service.updated_at = clock.now()
    audit.record(
        session,
        "workflow.service.update",
        "wf_service",
        service.id,
        before=before,
        after=body.model_dump(exclude_unset=True, mode="json"),
    )
    return service


async def ensure_service(session: AsyncSession, body: HallServiceIn) -> HallService:
    """The service ``body.key``, created if missing (for the demo seed)."""
    existing = await session.scalar(select(HallService).where(HallService.key == body.key))
    return existing or await check_create_service(session, body)


async def categories(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(HallService.category, func.count())
        .where(HallService.published.is_(True))
        .group_by(HallService.category)
        .order_by(HallService.category)
    )
    return [(row[0], int(row[1])) for row in rows]


# ---------------------------------------------------------------- for the hall's pages


async def applicable_service(
    session: AsyncSession, principal: Principal, key: str
) -> HallServiceOut:
    """The published form service ``key`` if the principal is among those it serves: what the
    apply page checks before showing the form (``check_apply`` checks the same on submission)."""
    service = await _service(session, key)
    if not service.published:
        raise NotFound(_("服务不存在"))
    _applicant(service, await users.get_person_ref(session, principal.person_id))
    favourites = await _favourite_ids(session, principal.person_id)
    return _out(service, service.id in favourites, await _department_names(session, [service]))
