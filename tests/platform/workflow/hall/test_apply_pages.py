"""Applying on the page: the form prefilled for the applicant, a refused submission shown again
with each field's reason and nothing written, a good one started and shown."""

from __future__ import annotations

import json
import re
from html import unescape

from sqlalchemy import func, select

from campus.kernel.runtime import Runtime
from campus.platform.workflow.models import HallService, Instance
from tests.platform.workflow.hall.conftest import (
    CERTIFICATE,
    CastOf,
    apply_on_page,
    field_error,
    page,
    post,
)


def form_config(html: str) -> dict[str, object]:
    """What the form renderer was given: fields, values, errors."""
    match = re.search(r"data-form-config='([^']*)'", html)
    assert match, "the page holds a form"
    config: dict[str, object] = json.loads(unescape(match.group(1)))
    return config


async def counted(db: Runtime) -> tuple[int, int]:
    """How many applications exist, and how often the certificate was applied for."""
    async with db.db.read() as session:
        instances = await session.scalar(select(func.count()).select_from(Instance))
        applied = await session.scalar(
            select(HallService.apply_count).where(HallService.key == "enrolment_certificate")
        )
    return int(instances or 0), int(applied or 0)


async def test_the_form_is_prefilled_for_the_applicant(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    me = (await cast["student"].get("/api/v1/auth/me")).json()
    html = await page(cast["student"], "/hall/services/enrolment_certificate/apply")
    assert 'name="csrf_token"' in html and 'data-testid="apply-form"' in html
    values = form_config(html)["values"]
    assert isinstance(values, dict)
    assert values["name"] == me["name"]
    assert values["number"] == me["login"]


async def test_a_refused_application_is_shown_again_and_writes_nothing(
    cast_of: CastOf, db: Runtime
) -> None:
    cast = await cast_of("student")
    before = await counted(db)
    bad = {**CERTIFICATE, "data.copies": "0", "data.language": "法语", "data.purpose": "其他"}
    response = await post(cast["student"], "/hall/services/enrolment_certificate/apply", bad)
    assert response.status_code == 422
    html = response.text
    assert "表单填写有误" in html
    config = form_config(html)
    errors = config["errors"]
    assert isinstance(errors, dict)
    assert {"data.copies", "data.language", "data.other_purpose"} <= set(errors)
    assert field_error(html, "data.copies")
    values = config["values"]
    assert isinstance(values, dict)
    assert values["name"] == "沈同学" and values["copies"] == 0  # what was typed is kept
    assert await counted(db) == before


async def test_staff_may_not_apply_for_a_student_service(cast_of: CastOf, db: Runtime) -> None:
    cast = await cast_of("teacher")
    before = await counted(db)
    await page(cast["teacher"], "/hall/services/enrolment_certificate/apply", 403)
    response = await post(
        cast["teacher"], "/hall/services/enrolment_certificate/apply", CERTIFICATE
    )
    assert response.status_code == 403
    assert await counted(db) == before


async def test_an_application_is_started_and_shown_with_a_message(
    cast_of: CastOf, db: Runtime
) -> None:
    cast = await cast_of("student")
    instances, applied = await counted(db)
    instance_id = await apply_on_page(cast)
    assert await counted(db) == (instances + 1, applied + 1)
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert "已提交“在读证明”" in html  # the flash carried across the redirect
    assert 'data-status="running"' in html
    assert 'data-testid="value-language">中文' in html  # the form, read-only
    assert 'data-action="submit"' in html
    got = (await cast["student"].get(f"/api/v1/workflow/instances/{instance_id}")).json()
    assert got["data"]["copies"] == 2 and got["status"] == "running"
