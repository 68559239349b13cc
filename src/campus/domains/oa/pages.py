"""Pages of the collaborative office shared by its parts: the entry, the page script, the people
picker, and what every page template gets (labels, the time formatter, the Markdown renderer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response

from campus.domains.oa import labels, richtext
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep
from campus.platform.access.service import public, signed_in
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES

router = APIRouter(tags=["oa-pages"])
SCRIPT = Path(__file__).with_name("static") / "oa.js"
PICKER_LIMIT = 10


def common() -> dict[str, Any]:
    """Values every page of the module renders with."""
    return {
        "fmt": fmt,
        "markdown": richtext.render,
        "excerpt": richtext.excerpt,
        "labels": labels,
    }


@router.get("/oa", dependencies=[signed_in()])
async def oa_home() -> Response:
    return RedirectResponse("/oa/notices", status_code=303)


@router.get("/oa/oa.js", dependencies=[public()])
async def oa_script() -> Response:
    """The module's page script: charts and the calendar's small behaviours (CSP allows no
    inline script)."""
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/oa/pickers/people")
async def people_picker(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    q: Annotated[str, Query(min_length=1, max_length=40)],
) -> Response:
    """People to invite or address, by the start of a name or number: those within the reader's
    ``users.person.read``, or else the campus address book (faculty and staff)."""
    if users.may_search_people(principal):
        found = await users.search_people_for(session, principal, q, PICKER_LIMIT)
    else:
        found = [
            p
            for p in await users.search_people(session, q, PICKER_LIMIT * 3)
            if p.person_type in STAFF_TYPES
        ][:PICKER_LIMIT]
    directory = await users.org_directory(session)
    return JSONResponse(
        [
            {
                "id": p.id,
                "name": p.name,
                "number": p.number or "",
                "unit": directory.name(p.org_unit_id),
            }
            for p in found
        ]
    )
