"""The programme editor's form: one page holding every group, course row and prerequisite of a
draft, read back into ``ProgrammeContent`` (catalogue codes turned into ids), with the refusal's
field errors mapped back onto the rows they name."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.programmes.schemas import ProgrammeOut

BLANK_ROWS = 3  # empty course rows under each group, to add courses
MAX_GROUPS = 30
MAX_ROWS = 300


@dataclass
class Row:
    code: str = ""
    term: str = ""
    required: bool = True
    hours: str = ""
    error: str = ""


@dataclass
class Group:
    name: str = ""
    min_credits: str = ""
    rows: list[Row] = field(default_factory=list)
    error: str = ""


@dataclass
class EditorForm:
    name: str = ""
    total_credits: str = ""
    years: str = "4"
    note: str = ""
    prerequisites: str = ""
    groups: list[Group] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # top-level fields
    messages: list[str] = field(default_factory=list)

    def padded(self) -> EditorForm:
        """Blank rows under every group and one blank group, to add to."""
        for g in self.groups:
            g.rows += [Row() for _ in range(BLANK_ROWS)]
        self.groups.append(Group(rows=[Row() for _ in range(BLANK_ROWS)]))
        return self


def of_programme(p: ProgrammeOut) -> EditorForm:
    codes = {c.course_id: c.code for g in p.groups for c in g.courses}
    return EditorForm(
        name=p.name,
        total_credits=f"{p.total_credits:g}",
        years=str(p.years),
        note=p.note,
        prerequisites="\n".join(
            f"{codes.get(x.course_id, '')} <- {codes.get(x.prerequisite_id, '')}"
            for x in p.prerequisites
        ),
        groups=[
            Group(
                name=g.name,
                min_credits=f"{g.min_credits:g}",
                rows=[Row(c.code, str(c.term), c.required, str(c.hours)) for c in g.courses],
            )
            for g in p.groups
        ],
    )


def read(form: FormData) -> EditorForm:
    """What the browser sent (blank rows and groups dropped)."""

    def text(key: str) -> str:
        value = form.get(key)
        return value.strip() if isinstance(value, str) else ""

    out = EditorForm(
        name=text("name"),
        total_credits=text("total_credits"),
        years=text("years") or "4",
        note=text("note"),
        prerequisites=text("prerequisites"),
    )
    for gi in range(MAX_GROUPS + 1):
        if f"g{gi}_name" not in form:
            break
        group = Group(name=text(f"g{gi}_name"), min_credits=text(f"g{gi}_min"))
        for ri in range(MAX_ROWS):
            if f"g{gi}_r{ri}_code" not in form:
                break
            row = Row(
                code=text(f"g{gi}_r{ri}_code"),
                term=text(f"g{gi}_r{ri}_term"),
                required=form.get(f"g{gi}_r{ri}_required") == "on",
                hours=text(f"g{gi}_r{ri}_hours"),
            )
            if row.code:
                group.rows.append(row)
        if group.name or group.rows:
            out.groups.append(group)
    return out


def _decimal(value: str) -> Decimal | str:
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):
        return value


async def to_body(session: AsyncSession, form: EditorForm) -> dict[str, Any]:
    """The JSON body the API would take; an unknown code becomes course id 0 (refused by the
    checks as not in the catalogue, on that row)."""
    codes = {r.code for g in form.groups for r in g.rows}
    prereqs: list[tuple[str, str]] = []
    for line in form.prerequisites.splitlines():
        course, sep, before = line.replace("←", "<-").partition("<-")
        if sep:
            prereqs += [(course.strip(), b.strip()) for b in before.replace("，", ",").split(",")]
    codes |= {c for pair in prereqs for c in pair}
    ids = dict(
        (await session.execute(select(Course.code, Course.id).where(Course.code.in_(codes)))).all()
    )
    return {
        "name": form.name or None,
        "total_credits": _decimal(form.total_credits),
        "years": form.years,
        "note": form.note,
        "groups": [
            {
                "name": g.name,
                "min_credits": _decimal(g.min_credits),
                "courses": [
                    {
                        "course_id": ids.get(r.code, 0),
                        "term": r.term,
                        "required": r.required,
                        "hours": r.hours or None,
                    }
                    for r in g.rows
                ],
            }
            for g in form.groups
        ],
        "prerequisites": [
            {"course_id": ids.get(a, 0), "prerequisite_id": ids.get(b, 0)} for a, b in prereqs
        ],
    }


def place_errors(form: EditorForm, errors: dict[str, str]) -> None:
    """Put each field error on the group or row it names (``groups.1.courses.2.course_id``)."""
    for key, reason in errors.items():
        parts = key.split(".")
        if parts[0] == "groups" and len(parts) > 1 and parts[1].isdigit():
            gi = int(parts[1])
            if gi < len(form.groups):
                group = form.groups[gi]
                if len(parts) > 3 and parts[2] == "courses" and parts[3].isdigit():
                    ri = int(parts[3])
                    if ri < len(group.rows):
                        group.rows[ri].error = reason
                        continue
                group.error = reason
                continue
        if parts[0] == "prerequisites":
            form.errors["prerequisites"] = reason
        else:
            form.errors[parts[0]] = reason
        form.messages.append(reason)
