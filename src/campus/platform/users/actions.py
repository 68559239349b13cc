"""Writes of the user center. ``check_*`` validates the request and calls ``do_*``, which writes,
emits the event and records the audit entry, all in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import events, excel, idcard, queries, validation
from campus.platform.users.labels import ORG_KIND_LABELS, POSITION_TITLES, STATUS_LABELS
from campus.platform.users.models import AdminClass, Identity, OrgUnit, Person, Position
from campus.platform.users.schemas import (
    STAFF_TYPES,
    STUDENT_TYPES,
    ClassCreate,
    ImportReport,
    OrgUnitCreate,
    OrgUnitMove,
    OrgUnitUpdate,
    PersonCreate,
    PersonUpdate,
    PositionAssign,
    StatusChange,
)
from campus.platform.users.validation import PersonFields

# Where a person's status may go next. Graduation is for students, retirement for staff.
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"suspended", "graduated", "left", "retired"}),
    "suspended": frozenset({"active", "graduated", "left", "retired"}),
    "graduated": frozenset(),
    "left": frozenset(),
    "retired": frozenset(),
}
STUDENT_ONLY_STATUSES = frozenset({"graduated"})
STAFF_ONLY_STATUSES = frozenset({"retired"})

# Which kinds of unit may sit directly below which.
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    "university": frozenset(),
    "college": frozenset({"university"}),
    "department": frozenset({"university", "college", "department"}),
    "office": frozenset({"university", "college", "department", "office"}),
    "major": frozenset({"college", "department"}),
}
CLASS_OWNER_KINDS = frozenset({"major", "college", "department"})
MAX_PATH_LENGTH = 400

CLASS_POSITIONS = frozenset({"counselor", "head_teacher"})
POSITION_ORG_KINDS: dict[str, frozenset[str]] = {
    "president": frozenset({"university"}),
    "party_secretary": frozenset({"university", "college"}),
    "dean": frozenset({"college"}),
    "vice_dean": frozenset({"college"}),
    "head": frozenset({"department", "office", "major"}),
    "counselor": frozenset({"college", "department", "major"}),
    "head_teacher": frozenset({"college", "department", "major"}),
}


def _invalid(errors: list[FieldError]) -> InvalidInput:
    if len(errors) == 1:
        return InvalidInput(errors[0].reason, errors=errors)
    return InvalidInput(_("输入不合法，请检查标出的字段"), errors=errors)


def _audit_view(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the audit log keeps them: identity numbers and phones masked."""
    view = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
    if view.get("id_number"):
        view["id_number"] = idcard.mask(view["id_number"])
    if view.get("phone"):
        view["phone"] = validation.mask_phone(view["phone"])
    return view


# ---------------------------------------------------------------- people


async def _require_org(session: AsyncSession, org_unit_id: int, field: str) -> OrgUnit:
    unit = await queries.org_unit(session, org_unit_id)
    if unit is None:
        raise InvalidInput.on(field, _("组织机构 {id} 不存在", id=org_unit_id))
    return unit


async def _require_class(session: AsyncSession, class_id: int) -> AdminClass:
    admin_class = await queries.admin_class(session, class_id)
    if admin_class is None:
        raise InvalidInput.on("class_id", _("行政班 {id} 不存在", id=class_id))
    return admin_class


async def _placement(
    session: AsyncSession, org_unit_id: int | None, class_id: int | None
) -> tuple[int, int | None]:
    """The org unit and class a person goes into; the class's unit when no unit is given."""
    admin_class = await _require_class(session, class_id) if class_id is not None else None
    if org_unit_id is None:
        if admin_class is None:
            raise InvalidInput.on("org_unit_id", _("必须填写所属单位或行政班"))
        return admin_class.org_unit_id, admin_class.id
    unit = await _require_org(session, org_unit_id, "org_unit_id")
    if not unit.active:
        raise InvalidInput.on("org_unit_id", _("组织机构“{name}”已停用", name=unit.name))
    if admin_class is not None:
        class_unit = await _require_org(session, admin_class.org_unit_id, "class_id")
        if not class_unit.path.startswith(unit.path):
            raise InvalidInput.on("class_id", _("行政班不属于所填的所属单位"))
    return unit.id, class_id


async def _check_unique(
    session: AsyncSession, fields: PersonFields, person_id: int | None = None
) -> None:
    for kind, value in fields.numbers.items():
        owner = await queries.owner_of_number(session, kind, value)
        if owner is not None and owner != person_id:
            label = _("学号") if kind == "student_no" else _("工号")
            raise Conflict.on(kind, _("{label} {value} 已被他人使用", label=label, value=value))
    if fields.id_number:
        owner = await queries.owner_of_id_number(
            session, validation.RESIDENT_ID_CARD, fields.id_number
        )
        if owner is not None and owner != person_id:
            raise Conflict.on("id_number", _("该身份证号已被他人使用"))


def _fields_from_create(data: PersonCreate) -> PersonFields:
    numbers = {
        kind: value
        for kind, value in (("student_no", data.student_no), ("staff_no", data.staff_no))
        if value
    }
    return PersonFields(
        name=data.name,
        gender=data.gender,
        person_type=data.person_type,
        org_unit_id=data.org_unit_id,
        class_id=data.class_id,
        numbers=numbers,
        id_number=validation.normalise_id_number(data.id_number),
        birth_date=data.birth_date,
        ethnicity=data.ethnicity or None,
        political_status=data.political_status or None,
        native_place=data.native_place or None,
        phone=data.phone or None,
        email=data.email.lower() if data.email else None,
    )


async def check_create_person(session: AsyncSession, data: PersonCreate) -> int:
    fields = _fields_from_create(data)
    errors = validation.problems(fields)
    if errors:
        raise _invalid(errors)
    fields.org_unit_id, fields.class_id = await _placement(
        session, fields.org_unit_id, fields.class_id
    )
    await _check_unique(session, fields)
    validation.complete_from_id_number(fields)
    return await do_create_person(session, fields)


async def do_create_person(session: AsyncSession, fields: PersonFields) -> int:
    now = clock.now()
    assert fields.org_unit_id is not None
    person = Person(
        name=fields.name,
        gender=fields.gender,
        birth_date=fields.birth_date,
        id_type=validation.RESIDENT_ID_CARD,
        id_number=fields.id_number,
        ethnicity=fields.ethnicity,
        political_status=fields.political_status,
        native_place=fields.native_place,
        person_type=fields.person_type,
        org_unit_id=fields.org_unit_id,
        class_id=fields.class_id,
        status=fields.status,
        phone=fields.phone,
        email=fields.email,
        created_at=now,
        updated_at=now,
    )
    session.add(person)
    await _flush_or_conflict(session)
    for kind, value in fields.numbers.items():
        session.add(Identity(person_id=person.id, kind=kind, value=value))
    await _flush_or_conflict(session)
    number = fields.numbers.get("student_no" if fields.person_type in STUDENT_TYPES else "staff_no")
    await emit(
        session,
        events.PERSON_CREATED,
        events.PersonCreated(
            person_id=person.id,
            person_type=person.person_type,
            status=person.status,
            org_unit_id=person.org_unit_id,
            class_id=person.class_id,
            number=number or next(iter(fields.numbers.values()), None),
        ),
    )
    audit.record(
        session,
        "users.person.create",
        "person",
        person.id,
        after=_audit_view({**_person_values(person), **fields.numbers}),
    )
    return person.id


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Flush; a unique constraint hit by a concurrent writer becomes a 409, not a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("数据已被他人同时修改，请刷新后重试")) from exc


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "id_number": person.id_number,
        "ethnicity": person.ethnicity,
        "political_status": person.political_status,
        "native_place": person.native_place,
        "person_type": person.person_type,
        "org_unit_id": person.org_unit_id,
        "class_id": person.class_id,
        "phone": person.phone,
        "email": person.email,
    }


async def _require_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(_("人员 {id} 不存在", id=person_id))
    return person


async def check_update_person(session: AsyncSession, person_id: int, data: PersonUpdate) -> None:
    person = await _require_person(session, person_id)
    given = data.model_fields_set
    required = {"name", "gender", "person_type", "org_unit_id"} & {
        f for f in given if getattr(data, f) is None
    }
    if required:
        raise _invalid([FieldError(f, _("不能清空")) for f in sorted(required)])
    numbers = await queries.identities_of(session, person_id)
    for kind in ("student_no", "staff_no"):
        if kind in given:
            value = getattr(data, kind)
            if value:
                numbers[kind] = value
            else:
                numbers.pop(kind, None)
    values = _person_values(person)
    for name in given - {"student_no", "staff_no"}:
        values[name] = getattr(data, name)
    if "id_number" in given:
        values["id_number"] = validation.normalise_id_number(values["id_number"])
    if "email" in given and values["email"]:
        values["email"] = values["email"].lower()
    fields = PersonFields(**values, numbers=numbers, status=person.status)
    if "id_number" in given and "birth_date" not in given and fields.id_number:
        # A new identity number brings its own birth date.
        fields.birth_date = None
    errors = validation.problems(fields)
    if errors:
        raise _invalid(errors)
    org_given = "org_unit_id" in given and data.org_unit_id is not None
    if "class_id" in given and data.class_id is not None and not org_given:
        fields.org_unit_id = await _unit_holding_class(session, person.org_unit_id, data.class_id)
    if org_given or "class_id" in given:
        fields.org_unit_id, fields.class_id = await _placement(
            session, fields.org_unit_id, fields.class_id
        )
    await _check_unique(session, fields, person_id)
    validation.complete_from_id_number(fields)
    await do_update_person(session, person, fields)


async def _unit_holding_class(session: AsyncSession, current_unit_id: int, class_id: int) -> int:
    """The person's current unit if it contains the class, otherwise the class's own unit."""
    admin_class = await _require_class(session, class_id)
    current = await queries.org_unit(session, current_unit_id)
    class_unit = await _require_org(session, admin_class.org_unit_id, "class_id")
    if current is not None and class_unit.path.startswith(current.path):
        return current.id
    return class_unit.id


async def do_update_person(session: AsyncSession, person: Person, fields: PersonFields) -> None:
    before = _person_values(person)
    before_numbers = await queries.identities_of(session, person.id)
    for name in before:
        setattr(person, name, getattr(fields, name))
    after = _person_values(person)
    changed = sorted(k for k in after if after[k] != before[k])
    changed += await _sync_identities(session, person.id, before_numbers, fields.numbers)
    if not changed:
        return
    person.updated_at = clock.now()
    await _flush_or_conflict(session)
    await emit(
        session, events.PERSON_UPDATED, events.PersonUpdated(person_id=person.id, changed=changed)
    )
    audit.record(
        session,
        "users.person.update",
        "person",
        person.id,
        before=_audit_view({k: before.get(k, before_numbers.get(k)) for k in changed}),
        after=_audit_view({k: after.get(k, fields.numbers.get(k)) for k in changed}),
    )


async def _sync_identities(
    session: AsyncSession, person_id: int, before: dict[str, str], after: dict[str, str]
) -> list[str]:
    changed = []
    for kind in sorted(before.keys() | after.keys()):
        old, new = before.get(kind), after.get(kind)
        if old == new:
            continue
        changed.append(kind)
        await session.execute(
            delete(Identity).where(Identity.person_id == person_id, Identity.kind == kind)
        )
        if new is not None:
            await session.flush()
            session.add(Identity(person_id=person_id, kind=kind, value=new))
    return changed


async def check_change_status(session: AsyncSession, person_id: int, data: StatusChange) -> None:
    person = await _require_person(session, person_id)
    if data.status == person.status:
        raise InvalidInput.on("status", _("人员已经是该状态"))
    if data.status not in TRANSITIONS[person.status]:
        raise InvalidInput.on(
            "status",
            _("不能从“{a}”变为“{b}”", a=STATUS_LABELS[person.status], b=STATUS_LABELS[data.status]),
        )
    if data.status in STUDENT_ONLY_STATUSES and person.person_type not in STUDENT_TYPES:
        raise InvalidInput.on("status", _("只有学生可以毕业"))
    if data.status in STAFF_ONLY_STATUSES and person.person_type not in STAFF_TYPES:
        raise InvalidInput.on("status", _("只有教职工可以退休"))
    await do_change_status(session, person, data.status, data.reason)


async def do_change_status(session: AsyncSession, person: Person, status: str, reason: str) -> None:
    before = person.status
    person.status = status
    person.updated_at = clock.now()
    await emit(
        session,
        events.PERSON_STATUS_CHANGED,
        events.PersonStatusChanged(
            person_id=person.id, from_status=before, to_status=status, reason=reason
        ),
    )
    audit.record(
        session,
        "users.person.status",
        "person",
        person.id,
        before={"status": before},
        after={"status": status, "reason": reason},
    )


async def do_place_student(
    session: AsyncSession,
    person_id: int,
    *,
    status: str,
    org_unit_id: int,
    class_id: int | None,
    reason: str,
) -> None:
    """The student's standing as the academic roll (学籍) decided it: status, major and class,
    written in the caller's transaction. The roll has approved the change, so the usual
    status transitions are not asked again; the class must belong to the unit."""
    person = await _require_person(session, person_id)
    if person.person_type not in STUDENT_TYPES:
        raise InvalidInput.on("person_id", _("只有学生有学籍"))
    if status not in TRANSITIONS:
        raise InvalidInput.on("status", _("未知的人员状态"))
    await _require_org(session, org_unit_id, "org_unit_id")
    if class_id is not None:
        admin_class = await _require_class(session, class_id)
        if admin_class.org_unit_id != org_unit_id:
            raise InvalidInput.on("class_id", _("班级不属于该专业"))
    before = _person_values(person)
    before_status = person.status
    person.status, person.org_unit_id, person.class_id = status, org_unit_id, class_id
    changed = sorted(k for k, v in _person_values(person).items() if v != before[k])
    if before_status != status:
        changed.append("status")
    if not changed:
        return
    person.updated_at = clock.now()
    if before_status != status:
        await emit(
            session,
            events.PERSON_STATUS_CHANGED,
            events.PersonStatusChanged(
                person_id=person.id, from_status=before_status, to_status=status, reason=reason
            ),
        )
    await emit(
        session, events.PERSON_UPDATED, events.PersonUpdated(person_id=person.id, changed=changed)
    )
    audit.record(
        session,
        "users.person.place",
        "person",
        person.id,
        before={"status": before_status, **{k: before[k] for k in ("org_unit_id", "class_id")}},
        after={
            "status": status,
            "org_unit_id": org_unit_id,
            "class_id": class_id,
            "reason": reason,
        },
    )


# ---------------------------------------------------------------- org units


async def _check_org_code_free(session: AsyncSession, code: str, own_id: int | None = None) -> None:
    existing = await queries.org_unit_by_code(session, code)
    if existing is not None and existing.id != own_id:
        raise Conflict.on(
            "code", _("机构代码 {code} 已被“{name}”使用", code=code, name=existing.name)
        )


def _check_parent_kind(kind: str, parent: OrgUnit | None, field: str) -> None:
    if kind == "university":
        if parent is not None:
            raise InvalidInput.on(field, _("学校是组织机构的根，不能有上级"))
        return
    if parent is None:
        raise InvalidInput.on(field, _("必须选择上级机构"))
    if parent.kind not in ALLOWED_PARENTS[kind]:
        raise InvalidInput.on(
            field,
            _(
                "“{kind}”不能设在“{parent}”之下",
                kind=ORG_KIND_LABELS[kind],
                parent=ORG_KIND_LABELS[parent.kind],
            ),
        )
    if not parent.active:
        raise InvalidInput.on(field, _("上级机构“{name}”已停用", name=parent.name))


async def check_create_org_unit(session: AsyncSession, data: OrgUnitCreate) -> int:
    parent = None
    if data.parent_id is not None:
        parent = await _require_org(session, data.parent_id, "parent_id")
    _check_parent_kind(data.kind, parent, "parent_id")
    if data.kind == "university" and await queries.org_children(session, None):
        raise Conflict.on("kind", _("已有学校根节点，只能有一个"))
    await _check_org_code_free(session, data.code)
    if parent is not None and len(parent.path) + 21 > MAX_PATH_LENGTH:
        raise InvalidInput.on("parent_id", _("组织机构层级过深"))
    return await do_create_org_unit(session, data, parent)


async def do_create_org_unit(
    session: AsyncSession, data: OrgUnitCreate, parent: OrgUnit | None
) -> int:
    unit = OrgUnit(
        code=data.code,
        name=data.name,
        name_en=data.name_en.strip(),
        kind=data.kind,
        parent_id=parent.id if parent else None,
        path="/",
        discipline_code=data.discipline_code,
        sort_order=data.sort_order,
        active=True,
    )
    session.add(unit)
    await _flush_or_conflict(session)
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await emit(
        session,
        events.ORG_UNIT_CREATED,
        events.OrgUnitCreated(
            org_unit_id=unit.id, parent_id=unit.parent_id, kind=unit.kind, code=unit.code
        ),
    )
    audit.record(
        session,
        "users.org_unit.create",
        "org_unit",
        unit.id,
        after=data.model_dump(mode="json"),
    )
    return unit.id


async def _require_unit(session: AsyncSession, org_unit_id: int) -> OrgUnit:
    unit = await queries.org_unit(session, org_unit_id)
    if unit is None:
        raise NotFound(_("组织机构 {id} 不存在", id=org_unit_id))
    return unit


async def check_update_org_unit(
    session: AsyncSession, org_unit_id: int, data: OrgUnitUpdate
) -> None:
    unit = await _require_unit(session, org_unit_id)
    given = data.model_fields_set
    for name in ("code", "name", "name_en", "kind", "sort_order", "active"):
        if name in given and getattr(data, name) is None:
            raise InvalidInput.on(name, _("不能清空"))
    if data.code is not None:
        await _check_org_code_free(session, data.code, unit.id)
    if data.kind is not None and data.kind != unit.kind:
        parent = await queries.org_unit(session, unit.parent_id) if unit.parent_id else None
        _check_parent_kind(data.kind, parent, "kind")
        await _check_children_fit(session, unit, data.kind)
    if data.active is False and unit.active:
        await _check_can_deactivate(session, unit)
    await do_update_org_unit(session, unit, {k: getattr(data, k) for k in given})


async def _check_children_fit(session: AsyncSession, unit: OrgUnit, kind: str) -> None:
    for child, _count in await queries.org_children(session, unit.id):
        if kind not in ALLOWED_PARENTS[child.kind]:
            raise InvalidInput.on(
                "kind", _("下级机构“{name}”不能设在这种机构之下", name=child.name)
            )


async def _check_can_deactivate(session: AsyncSession, unit: OrgUnit) -> None:
    if any(child.active for child, _n in await queries.org_children(session, unit.id)):
        raise InvalidInput.on("active", _("请先停用全部下级机构"))
    if await queries.people_count_in(session, unit.path, "active"):
        raise InvalidInput.on("active", _("机构内还有在籍在岗人员，不能停用"))


async def do_update_org_unit(session: AsyncSession, unit: OrgUnit, values: dict[str, Any]) -> None:
    before = {k: getattr(unit, k) for k in values}
    changed = sorted(k for k, v in values.items() if before[k] != v)
    if not changed:
        return
    for name in changed:
        setattr(unit, name, values[name])
    await _flush_or_conflict(session)
    await emit(
        session,
        events.ORG_UNIT_UPDATED,
        events.OrgUnitUpdated(org_unit_id=unit.id, changed=changed),
    )
    audit.record(
        session,
        "users.org_unit.update",
        "org_unit",
        unit.id,
        before={k: before[k] for k in changed},
        after={k: values[k] for k in changed},
    )


async def check_move_org_unit(session: AsyncSession, org_unit_id: int, data: OrgUnitMove) -> None:
    unit = await _require_unit(session, org_unit_id)
    new_parent = await _require_org(session, data.parent_id, "parent_id")
    if new_parent.path.startswith(unit.path):
        raise InvalidInput.on(
            "parent_id",
            _("不能把“{name}”移到它自己或它的下级机构之下，这会形成循环", name=unit.name),
        )
    if new_parent.id == unit.parent_id:
        raise InvalidInput.on("parent_id", _("已经在该上级机构之下"))
    _check_parent_kind(unit.kind, new_parent, "parent_id")
    units = await queries.subtree(session, unit)
    deepest = max(len(u.path) for u in units)
    if deepest - len(unit.path) + len(new_parent.path) + len(f"{unit.id}/") > MAX_PATH_LENGTH:
        raise InvalidInput.on("parent_id", _("组织机构层级过深"))
    await do_move_org_unit(session, unit, new_parent, len(units))


async def do_move_org_unit(
    session: AsyncSession, unit: OrgUnit, new_parent: OrgUnit, subtree_size: int
) -> None:
    old_path, old_parent = unit.path, unit.parent_id
    new_path = f"{new_parent.path}{unit.id}/"
    # One UPDATE rewrites the path prefix of the whole subtree (the unit included).
    await session.execute(
        update(OrgUnit)
        .where(OrgUnit.path.like(queries.like_prefix(old_path), escape="\\"))
        .values(path=literal(new_path) + func.substr(OrgUnit.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )
    unit.parent_id = new_parent.id
    await session.flush()
    await session.refresh(unit)
    for cached in list(session.identity_map.values()):
        if isinstance(cached, OrgUnit) and cached is not unit:
            await session.refresh(cached, ["path"])
    await emit(
        session,
        events.ORG_UNIT_MOVED,
        events.OrgUnitMoved(
            org_unit_id=unit.id,
            from_parent_id=old_parent,
            to_parent_id=new_parent.id,
            subtree_size=subtree_size,
        ),
    )
    audit.record(
        session,
        "users.org_unit.move",
        "org_unit",
        unit.id,
        before={"parent_id": old_parent, "path": old_path},
        after={"parent_id": new_parent.id, "path": new_path},
    )


# ---------------------------------------------------------------- classes and positions


async def check_create_class(session: AsyncSession, data: ClassCreate) -> int:
    unit = await _require_org(session, data.org_unit_id, "org_unit_id")
    if unit.kind not in CLASS_OWNER_KINDS:
        raise InvalidInput.on("org_unit_id", _("行政班只能设在专业、学院或系之下"))
    if not unit.active:
        raise InvalidInput.on("org_unit_id", _("组织机构“{name}”已停用", name=unit.name))
    if await queries.class_by_code(session, data.code) is not None:
        raise Conflict.on("code", _("班级代码 {code} 已存在", code=data.code))
    return await do_create_class(session, data)


async def do_create_class(session: AsyncSession, data: ClassCreate) -> int:
    admin_class = AdminClass(
        code=data.code, name=data.name, org_unit_id=data.org_unit_id, grade=data.grade
    )
    session.add(admin_class)
    await _flush_or_conflict(session)
    await emit(
        session,
        events.CLASS_CREATED,
        events.ClassCreated(
            class_id=admin_class.id,
            org_unit_id=admin_class.org_unit_id,
            grade=admin_class.grade,
            code=admin_class.code,
        ),
    )
    audit.record(
        session, "users.class.create", "class", admin_class.id, after=data.model_dump(mode="json")
    )
    return admin_class.id


async def check_assign_position(session: AsyncSession, data: PositionAssign) -> int:
    person = await session.get(Person, data.person_id)
    if person is None:
        raise InvalidInput.on("person_id", _("人员 {id} 不存在", id=data.person_id))
    if person.status != "active":
        raise InvalidInput.on("person_id", _("只能给在籍在岗的人员任职"))
    allowed_types = (*STAFF_TYPES, "postgraduate") if data.kind == "counselor" else STAFF_TYPES
    if person.person_type not in allowed_types:
        raise InvalidInput.on("person_id", _("该人员类型不能担任此职务"))
    org_unit_id, class_id = await _position_place(session, data)
    if await queries.find_position(session, person.id, data.kind, org_unit_id, class_id):
        raise Conflict.on("kind", _("该人员已担任此职务"))
    title = data.title or POSITION_TITLES[data.kind]
    return await do_assign_position(session, person.id, data.kind, org_unit_id, class_id, title)


async def _position_place(
    session: AsyncSession, data: PositionAssign
) -> tuple[int | None, int | None]:
    if data.class_id is not None:
        if data.kind not in CLASS_POSITIONS:
            raise InvalidInput.on("class_id", _("该职务不设在班级上"))
        admin_class = await _require_class(session, data.class_id)
        if data.org_unit_id is not None and data.org_unit_id != admin_class.org_unit_id:
            raise InvalidInput.on("org_unit_id", _("行政班不属于所填的所属单位"))
        return None, admin_class.id
    if data.org_unit_id is None:
        raise InvalidInput.on("org_unit_id", _("必须填写任职的机构或班级"))
    unit = await _require_org(session, data.org_unit_id, "org_unit_id")
    if unit.kind not in POSITION_ORG_KINDS[data.kind]:
        raise InvalidInput.on(
            "org_unit_id",
            _("“{kind}”机构不设此职务", kind=ORG_KIND_LABELS[unit.kind]),
        )
    return unit.id, None


async def do_assign_position(
    session: AsyncSession,
    person_id: int,
    kind: str,
    org_unit_id: int | None,
    class_id: int | None,
    title: str,
) -> int:
    position = Position(
        person_id=person_id,
        kind=kind,
        org_unit_id=org_unit_id,
        class_id=class_id,
        title=title,
        created_at=clock.now(),
    )
    session.add(position)
    await _flush_or_conflict(session)
    await emit(
        session,
        events.POSITION_ASSIGNED,
        events.PositionAssigned(
            position_id=position.id,
            person_id=person_id,
            kind=kind,
            org_unit_id=org_unit_id,
            class_id=class_id,
        ),
    )
    audit.record(
        session,
        "users.position.assign",
        "person",
        person_id,
        after={
            "position_id": position.id,
            "kind": kind,
            "org_unit_id": org_unit_id,
            "class_id": class_id,
            "title": title,
        },
    )
    return position.id


async def check_end_position(session: AsyncSession, position_id: int) -> None:
    position = await session.get(Position, position_id)
    if position is None:
        raise NotFound(_("任职记录 {id} 不存在", id=position_id))
    await do_end_position(session, position)


async def do_end_position(session: AsyncSession, position: Position) -> None:
    payload = events.PositionEnded(
        position_id=position.id, person_id=position.person_id, kind=position.kind
    )
    await session.delete(position)
    await session.flush()
    await emit(session, events.POSITION_ENDED, payload)
    audit.record(
        session,
        "users.position.end",
        "person",
        payload.person_id,
        before={"position_id": payload.position_id, "kind": payload.kind},
    )


# ---------------------------------------------------------------- Excel import

IMPORT_BATCH = 1000


async def check_import_people(
    session: AsyncSession, data: bytes, *, only_valid: bool, dry_run: bool = False
) -> ImportReport:
    """Check every row of an uploaded sheet; import when every row is valid, or only the valid
    rows when ``only_valid``. With ``dry_run`` nothing is written."""
    rows = excel.read_rows(data)
    if not rows:
        raise InvalidInput.on("file", _("表格中没有数据行"))
    checked = await excel.check_sheet(session, rows)
    report = ImportReport(
        total_rows=checked.total_rows,
        valid_rows=len(checked.valid),
        invalid_rows=checked.invalid_rows,
        imported=0,
        problems=checked.problems,
        status="validated",
    )
    if dry_run:
        return report
    if checked.problems and not only_valid:
        raise InvalidInput(
            _(
                "共 {total} 行，其中 {bad} 行有错误，未导入任何数据",
                total=checked.total_rows,
                bad=checked.invalid_rows,
            ),
            extra={"report": report.model_dump(mode="json")},
        )
    report.imported = await do_import_people(session, [fields for _row, fields in checked.valid])
    report.status = "imported"
    return report


async def do_import_people(session: AsyncSession, people: list[PersonFields]) -> int:
    """Insert checked people in batches (one INSERT … RETURNING per batch), their numbers, one
    created event each and one audit entry for the whole import."""
    for start in range(0, len(people), IMPORT_BATCH):
        await _insert_batch(session, people[start : start + IMPORT_BATCH])
    audit.record(
        session,
        "users.person.import",
        "person",
        None,
        after={"count": len(people)},
    )
    return len(people)


async def _insert_batch(session: AsyncSession, batch: list[PersonFields]) -> None:
    now = clock.now()
    rows = [
        {
            "name": p.name,
            "gender": p.gender,
            "birth_date": p.birth_date,
            "id_type": validation.RESIDENT_ID_CARD,
            "id_number": p.id_number,
            "ethnicity": p.ethnicity,
            "political_status": p.political_status,
            "native_place": p.native_place,
            "person_type": p.person_type,
            "org_unit_id": p.org_unit_id,
            "class_id": p.class_id,
            "status": p.status,
            "phone": p.phone,
            "email": p.email,
            "created_at": now,
            "updated_at": now,
        }
        for p in batch
    ]
    try:
        ids = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True), rows
            )
        )
        numbers = [
            {"person_id": pid, "kind": kind, "value": value}
            for pid, p in zip(ids, batch, strict=True)
            for kind, value in p.numbers.items()
        ]
        if numbers:
            await session.execute(insert(Identity), numbers)
    except IntegrityError as exc:
        raise Conflict(_("导入期间数据已被他人修改，请重新导入")) from exc
    for pid, p in zip(ids, batch, strict=True):
        await emit(
            session,
            events.PERSON_CREATED,
            events.PersonCreated(
                person_id=pid,
                person_type=p.person_type,
                status=p.status,
                org_unit_id=p.org_unit_id or 0,
                class_id=p.class_id,
                number=next(iter(p.numbers.values()), None),
                imported=True,
            ),
        )
